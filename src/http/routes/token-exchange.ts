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
import { z } from 'zod';
import type { Services } from '../../services.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { TOKEN_EXCHANGE, type WorkloadExchange } from '../../workload/exchange.js';
import { documentedOperation } from '../api-router.js';
import { readForm } from '../body.js';
import { authenticateClient } from '../client-auth.js';
import { parseInput } from '../validate.js';
import { delegate } from './oauth-routes.js';

/** Absent and empty are the same to an OAuth form (RFC 6749 §3.1). */
const required = z.string().min(1, { error: 'is required' });
const optional = z.string().optional().transform((value) => value || undefined);

const ExchangeForm = z.object({
  grant_type: z.literal(TOKEN_EXCHANGE),
  subject_token: required.describe('the workload\'s identity token (a CI job\'s OIDC token, a Kubernetes service account token)'),
  subject_token_type: required.describe('urn:ietf:params:oauth:token-type:id_token or urn:ietf:params:oauth:token-type:jwt'),
  requested_token_type: optional.describe('urn:ietf:params:oauth:token-type:access_token, the only kind issued'),
  scope: optional.describe('space-separated; within what the workload rule grants'),
  client_id: z.string().optional().describe('client_secret_post'),
  client_secret: z.string().optional(),
});

const Exchanged = z.object({
  access_token: z.string().describe('a personal access token (tsr_…) for the workload'),
  issued_token_type: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  scope: z.string(),
});

/** Answered by the middleware below, ahead of oidc-provider's token endpoint, so described here. */
export const tokenExchangeOperation = documentedOperation({
  method: 'post', path: '/oauth2/token', tag: 'OAuth for downstream APIs', auth: 'client-optional',
  summary: 'Exchange a workload identity token for a personal access token (RFC 8693)',
  description: 'Only grant_type urn:ietf:params:oauth:grant-type:token-exchange is described here; every other grant goes to the OpenID Provider (see its discovery document). Client authentication is optional, but presented credentials must be valid.',
  request: { body: ExchangeForm, contentType: 'form' },
  responses: { 200: { description: 'the issued token (RFC 8693 §2.2.1)', schema: Exchanged } },
});

export function tokenExchangeEndpoint(services: Services, oidc: OpenIdProvider, exchange: WorkloadExchange) {
  const limit = services.config.server.bodyLimitBytes;
  return async function tokenEndpoint(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== '/oauth2/token' || !ctx.is('application/x-www-form-urlencoded')) return next();
    const body = await readForm(ctx, limit);
    if (body.grant_type !== TOKEN_EXCHANGE) return delegate(oidc, ctx, limit);
    const client = await authenticateClient(services, ctx, body, { optional: true });
    const form = parseInput(ExchangeForm, body, 'body');
    const answer = await exchange.exchange({
      subject_token: form.subject_token,
      subject_token_type: form.subject_token_type,
      requested_token_type: form.requested_token_type,
      scope: form.scope,
      clientAllowedScopes: client?.allowedScopes,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.body = answer;
  };
}
