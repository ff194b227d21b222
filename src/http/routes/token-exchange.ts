/**
 * RFC 8693 token exchange at the provider's token endpoint (`POST /oauth2/token`). Tessera answers
 * `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` itself and hands every other grant
 * to oidc-provider untouched, the way /oauth2/introspect splits Tessera's tokens from the
 * provider's. Handling it here rather than through `provider.registerGrantType` keeps the issued
 * token a Tessera PAT from the PAT service and the errors Tessera's own typed ones, rendered by
 * the one error mapper in the same RFC 6749 §5.2 JSON the provider uses.
 *
 * Client authentication is optional (a CI job holds no client secret: its identity token is the
 * credential), but credentials that are presented must be valid.
 */
import type { Context, Next } from 'koa';
import type { Services } from '../../gateway.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { TOKEN_EXCHANGE, type WorkloadExchange } from '../../workload/exchange.js';
import { readForm, stringField } from '../body.js';
import { authenticateClient } from '../client-auth.js';
import { delegate } from './oauth-routes.js';

export function tokenExchangeEndpoint(services: Services, oidc: OpenIdProvider, exchange: WorkloadExchange) {
  const limit = services.config.server.bodyLimitBytes;
  return async function tokenEndpoint(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== '/oauth2/token' || !ctx.is('application/x-www-form-urlencoded')) return next();
    const body = await readForm(ctx, limit);
    if (body.grant_type !== TOKEN_EXCHANGE) return delegate(oidc, ctx, limit);
    const client = await authenticateClient(services, ctx, body, { optional: true });
    const answer = await exchange.exchange({
      subject_token: stringField(body, 'subject_token', true),
      subject_token_type: stringField(body, 'subject_token_type', true),
      requested_token_type: stringField(body, 'requested_token_type'),
      scope: stringField(body, 'scope'),
      clientAllowedScopes: client?.allowedScopes,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.body = answer;
  };
}
