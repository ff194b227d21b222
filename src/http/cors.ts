/**
 * CORS for browser apps on other origins calling `/api/v1` and Tessera's own answers at
 * `/oauth2/introspect` and `/oauth2/revoke` (`server.cors.origins`). Only the exact origins
 * listed get `Access-Control-Allow-Origin` (echoed, never `*`), and never
 * `Access-Control-Allow-Credentials`: the API takes bearer tokens, so cookies (the web session)
 * must never ride along on a cross-origin call. An origin not listed gets no CORS header, which
 * the browser turns into a refusal. The provider's endpoints (token, userinfo, revocation of its
 * tokens) allow the same origins through oidc-provider's `clientBasedCORS` (src/oauth/provider.ts).
 */
import type { Context, Next } from 'koa';

const PATHS = (path: string) => path === '/api/v1' || path.startsWith('/api/v1/') || path === '/oauth2/revoke' || path === '/oauth2/introspect';

export function corsPolicy(origins: readonly string[]) {
  const allowed = new Set(origins);
  // Not `async`: a request with no Origin (every server-to-server introspection) passes
  // straight on, without a promise of its own.
  return function cors(ctx: Context, next: Next): Promise<void> {
    const origin = ctx.get('origin');
    if (!origin || !PATHS(ctx.path)) return next();
    ctx.vary('Origin');
    const preflight = ctx.method === 'OPTIONS' && Boolean(ctx.get('access-control-request-method'));
    if (!allowed.has(origin)) {
      // Answered here, without CORS headers, so that oidc-provider (which allows any origin at a
      // preflight and checks the client afterwards) does not answer it for the /oauth2 paths.
      if (!preflight) return next();
      ctx.status = 204;
      return Promise.resolve();
    }
    ctx.set('Access-Control-Allow-Origin', origin);
    if (preflight) {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE');
      ctx.set('Access-Control-Allow-Headers', 'authorization, content-type');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return Promise.resolve();
    }
    ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After');
    return next();
  };
}
