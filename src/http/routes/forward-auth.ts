/**
 * `/auth/verify`: forward authentication for nginx `auth_request` and Traefik ForwardAuth. The
 * proxy sends the client's Authorization header here; 200 lets the request through with the
 * identity in `X-Tessera-*` headers, 401/403 stops it. `?scope=a,b` demands scopes.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { InsufficientScope, InvalidRequest, InvalidToken, Unauthorized } from '../../errors.js';
import type { Services } from '../../services.js';
import { holdsAll } from '../../tokens/scopes.js';
import { ApiRouter } from '../api-router.js';
import { principalOf } from '../authenticate.js';
import { ErrorBody } from '../wire-schemas.js';

const IDENTITY_HEADERS = {
  'X-Tessera-User': 'the username',
  'X-Tessera-User-Id': 'the user id',
  'X-Tessera-Source': 'the identity source (local, or an LDAP or SAML source id)',
  'X-Tessera-Role': 'admin or normal',
  'X-Tessera-Scopes': 'the token\'s scopes, space-separated (empty: full rights)',
  'X-Tessera-Token-Id': 'the personal access token\'s id (empty for other credentials)',
};

/** The check itself; served on the hot stack (http/hot-routes.ts) and by the router below. */
export function forwardAuthCheck(services: Services): (ctx: Context) => Promise<void> {
  return async function verify(ctx: Context): Promise<void> {
    // A proxy can only pass on 2xx/401/403: malformed credentials are an invalid token here, not 400.
    const principal = await principalOf(services, ctx).catch((err) => {
      if (err instanceof InvalidRequest) throw new InvalidToken('malformed credentials');
      throw err;
    });
    if (!principal) throw new Unauthorized('send a token: Authorization: Bearer <token>');
    ctx.state.principal = principal;
    const scope = ctx.querystring ? ctx.query.scope : undefined;
    const wanted = typeof scope === 'string' ? scope.split(/[ ,]+/).filter(Boolean) : [];
    if (!holdsAll(principal.scopes, wanted)) throw new InsufficientScope(`this needs scope ${wanted.join(' ')}`, wanted);
    ctx.set({
      'Cache-Control': 'no-store',
      'X-Tessera-User': principal.user.username,
      'X-Tessera-User-Id': principal.user.id,
      'X-Tessera-Source': principal.user.source,
      'X-Tessera-Role': principal.user.role,
      'X-Tessera-Scopes': principal.scopes?.join(' ') ?? '',
      'X-Tessera-Token-Id': principal.tokenId ?? '',
    });
    ctx.status = 200;
    ctx.body = '';
  };
}

/**
 * The same check for the spellings the hot stack leaves to the routers (`/auth/verify/`), and the
 * route's description. Any method (the proxy forwards the client's), so registered by hand; the
 * check reads its one parameter itself.
 */
export function forwardAuthRoutes(services: Services): ApiRouter {
  const router = new ApiRouter({ bodyLimit: services.config.server.bodyLimitBytes });
  router.describe({
    method: 'get', path: '/auth/verify', tag: 'Forward authentication', auth: 'bearer',
    summary: 'Check the request\'s credentials for a proxy (nginx auth_request, Traefik ForwardAuth)',
    description: 'Answers every method alike. 200 lets the request through, with the identity in X-Tessera-* headers; 401 and 403 stop it. Malformed credentials are 401 invalid_token, never 400: a proxy passes on only 2xx, 401 and 403.',
    request: { query: z.object({ scope: z.string().optional().describe('scopes the token must hold, comma- or space-separated') }) },
    responses: { 200: { description: 'allowed; empty body', headers: IDENTITY_HEADERS }, 403: { description: 'insufficient_scope: the token lacks a scope asked for', schema: ErrorBody } },
  });
  router.all('/auth/verify', forwardAuthCheck(services));
  return router;
}
