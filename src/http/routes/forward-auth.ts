/**
 * `/auth/verify`: forward authentication for nginx `auth_request` and Traefik ForwardAuth. The
 * proxy sends the client's Authorization header here; 200 lets the request through with the
 * identity in `X-Tessera-*` headers, 401/403 stops it. `?scope=a,b` demands scopes.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { InsufficientScope, InvalidRequest, InvalidToken, Unauthorized } from '../../errors.js';
import type { Services } from '../../gateway.js';
import { holdsAll } from '../../tokens/scopes.js';
import { principalOf } from '../authenticate.js';

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

/** The same check for the spellings the hot stack leaves to the routers (`/auth/verify/`). */
export function forwardAuthRoutes(services: Services): Router {
  const router = new Router();
  router.all('/auth/verify', forwardAuthCheck(services));
  return router;
}
