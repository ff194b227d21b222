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
import type { ClientConfig } from '../../config/schema.js';
import { InvalidClient } from '../../errors.js';
import type { Services } from '../../gateway.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { TOKEN_EXCHANGE, type WorkloadExchange } from '../../workload/exchange.js';
import { readForm, stringField, type Fields } from '../body.js';
import { formDecode, readAuthorization } from '../credentials.js';
import { delegate } from './oauth-routes.js';

async function authenticatePresentedClient(services: Services, ctx: Context, body: Fields): Promise<ClientConfig | undefined> {
  let presented;
  try {
    presented = readAuthorization(ctx);
  } catch {
    throw new InvalidClient('malformed Authorization header');
  }
  if (presented?.scheme === 'bearer') throw new InvalidClient('authenticate the client with Basic or client_secret_post');
  if (!presented && body.client_secret === undefined) return undefined;
  return services.clients.authenticate({
    basic: presented ? { id: formDecode(presented.username), secret: formDecode(presented.password) } : undefined,
    post: body.client_id !== undefined ? { id: body.client_id, secret: body.client_secret } : undefined,
  });
}

export function tokenExchangeEndpoint(services: Services, oidc: OpenIdProvider, exchange: WorkloadExchange) {
  const limit = services.config.server.bodyLimitBytes;
  return async function tokenEndpoint(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== '/oauth2/token' || !ctx.is('application/x-www-form-urlencoded')) return next();
    const body = await readForm(ctx, limit);
    if (body.grant_type !== TOKEN_EXCHANGE) return delegate(oidc, ctx, limit);
    const client = await authenticatePresentedClient(services, ctx, body);
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
