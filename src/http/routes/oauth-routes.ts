/**
 * RFC 7662 introspection and RFC 7009 revocation for downstream APIs. Clients authenticate with
 * `client_secret_basic` or `client_secret_post`; the body is form-encoded (RFC 7662 §2.1).
 */
import type { Context } from 'koa';
import { z } from 'zod';
import type { ClientConfig } from '../../config/schema.js';
import type { Services } from '../../services.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { isTesseraSecret, parseSecret } from '../../tokens/format.js';
import { ApiRouter } from '../api-router.js';
import { readForm, readProviderForm, stringField, type Fields } from '../body.js';
import { authenticateClient } from '../client-auth.js';
import { inRequest } from '../request-context.js';
import { sendJson } from '../json-response.js';
import { INTROSPECTION_JWT, signIntrospection } from '../../oauth/signed-introspection.js';
import { Introspection } from '../wire-schemas.js';

/**
 * RFC 7662 §2.1 / RFC 7009 §2.1. Loose: other parameters are passed on to oidc-provider as sent
 * (the body is handed over whole). Parsing it costs about 1 µs (measured on a loaded 2-core
 * machine), against ~100 µs for the whole introspection of a personal access token.
 */
const TokenForm = z.looseObject({
  token: z.string().min(1, { error: 'is required' }).describe('the token'),
  token_type_hint: z.string().optional().describe('access_token or refresh_token; a hint only'),
  client_id: z.string().optional().describe('client_secret_post'),
  client_secret: z.string().optional().describe('client_secret_post'),
});

/** Tokens Tessera issues itself; everything else at these endpoints is oidc-provider's. */
const isTesseraToken = (token: string) => isTesseraSecret(parseSecret(token));

/** Clients with a plain secret are oidc-provider's too (clients-metadata.ts); `secretHash` ones are Tessera's only. */
const hasProviderRegistration = (client: ClientConfig) => Boolean(client.secret);

/** oidc-provider reads the body itself: hand it the text already read. */
export async function delegate(oidc: OpenIdProvider, ctx: Context, limit: number): Promise<void> {
  await oidc.handle(ctx, await readProviderForm(ctx, limit));
}

/**
 * `POST /oauth2/introspect`. The client authenticates here first, whatever the token, so a bad
 * or missing client authentication gets the same 401 invalid_client (with WWW-Authenticate:
 * Basic) for every kind. Tessera's own tokens then take its one-round-trip path; provider tokens
 * go to oidc-provider's introspection with Tessera's policy, inside the request context (it is
 * served on the hot stack, http/hot-routes.ts, which does not open AsyncLocalStorage).
 */
export function introspectionEndpoint(services: Services, oidc: OpenIdProvider): (ctx: Context) => Promise<void> {
  const { config, introspection } = services;
  const limit = config.server.bodyLimitBytes;
  return async function introspect(ctx: Context): Promise<void> {
    const body = await readForm(ctx, limit);
    const token = stringField(body, 'token', true);
    const authenticated = authenticateClient(services, ctx, body);
    const caller = authenticated instanceof Promise ? await authenticated : authenticated;
    // The provider's JWT access tokens are checked here: oidc-provider cannot introspect them.
    const parsed = parseSecret(token);
    const jwt = parsed.kind === 'jwt';
    if (!jwt && !isTesseraSecret(parsed) && token.length <= 4096) {
      if (hasProviderRegistration(caller)) return inRequest(ctx, () => delegate(oidc, ctx, limit));
      // A `secretHash` client is not the provider's: no provider token was issued to it (and the
      // config refuses `resources` on it), so none is active for it.
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { active: false };
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const answer = jwt ? await inRequest(ctx, () => oidc.jwts.introspect(caller, token)) : await introspection.introspect(caller, token, ctx.ip, parsed);
    // RFC 9701: a signed answer when the resource server asks for one.
    if (ctx.get('Accept') && ctx.accepts('json', INTROSPECTION_JWT) === INTROSPECTION_JWT) {
      ctx.type = INTROSPECTION_JWT;
      ctx.body = await signIntrospection(oidc.currentSigningKey(), config.server.issuer!, caller.id, answer, services.clock());
      return;
    }
    sendJson(ctx, answer);
  };
}

export function oauthRoutes(services: Services, oidc: OpenIdProvider): ApiRouter {
  const { config, introspection } = services;
  const limit = config.server.bodyLimitBytes;
  const router = new ApiRouter({ prefix: '/oauth2', bodyLimit: limit });
  const tag = 'OAuth for downstream APIs';

  const client = (ctx: Context, body: Fields) => authenticateClient(services, ctx, body);

  // Served on the hot stack (http/hot-routes.ts); its form is read without zod there, so it is
  // described here and registered with the same endpoint for the requests the hot stack passes on.
  router.describe({
    method: 'post', path: '/introspect', tag, auth: 'client',
    summary: 'Introspect a token (RFC 7662)',
    description: 'Any token Tessera issues: personal access tokens, login tokens, and the OpenID Provider\'s tokens. Inactive, unknown, expired or revoked tokens all answer exactly {"active": false}. With Accept: application/token-introspection+jwt the answer is a signed JWT (RFC 9701).',
    request: { body: TokenForm, contentType: 'form' },
    responses: { 200: { description: 'the token\'s state', schema: Introspection } },
  });
  router.post('/introspect', introspectionEndpoint(services, oidc));

  router.define(
    {
      method: 'post', path: '/revoke', tag, auth: 'client',
      summary: 'Revoke a token (RFC 7009)',
      description: 'Resource servers may revoke users\' personal access tokens. An unknown token is 200 too (RFC 7009 §2.2).',
      request: { body: TokenForm, contentType: 'form' },
      responses: { 200: { description: 'revoked, or nothing to revoke' } },
    },
    [],
    async (ctx, { body }) => {
      const token = body.token;
      const caller = await client(ctx, body);
      if (!isTesseraToken(token) && token.length <= 4096) {
        if (hasProviderRegistration(caller)) return delegate(oidc, ctx, limit);
        // Nothing the provider issued belongs to a `secretHash` client: RFC 7009 §2.2 says 200.
        ctx.set('Cache-Control', 'no-store');
        ctx.status = 200;
        ctx.body = '';
        return;
      }
      await introspection.revoke(caller, token);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      ctx.body = '';
    },
  );

  return router;
}
