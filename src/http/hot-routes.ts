/**
 * The two routes a deployment calls for every proxied API request, `POST /oauth2/introspect`
 * and `/auth/verify`, on a short stack of their own that app.ts mounts before everything else:
 * the same request observer, drain, error mapper and response headers as every route (and CORS
 * for introspection), then the endpoint, without a dozen routers in front of it.
 *
 * They run outside the AsyncLocalStorage request context: on Node 20 code inside it pays a
 * promise hook on every promise it creates. The context is opened all the same (request id
 * echoed, ip and user agent kept on `ctx.state.request`) and handed on explicitly to what records
 * audit events or log lines; where an endpoint hands the request to oidc-provider it enters the
 * context first (`inRequest`).
 *
 * Only the exact path (and for introspection, POST) is served here; other methods and
 * spellings go on to the routers, which answer them exactly as before.
 */
import compose from 'koa-compose';
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../services.js';
import type { OpenIdProvider } from '../oauth/provider.js';
import { openRequest } from './request-context.js';
import { introspectionEndpoint } from './routes/oauth-routes.js';
import { forwardAuthCheck } from './routes/forward-auth.js';

export interface SharedLayers {
  /** The request observer, drain, error mapper and response headers every route passes, in order. */
  common: Middleware[];
  cors: Middleware;
}

export function hotRoutes(services: Services, oidc: OpenIdProvider, { common, cors }: SharedLayers) {
  // The endpoint ends each stack: nothing runs after it.
  const introspect = compose([...common, cors, introspectionEndpoint(services, oidc)]);
  const verify = compose([...common, forwardAuthCheck(services)]);
  return function hotRoute(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === '/oauth2/introspect' && ctx.method === 'POST') {
      openRequest(ctx);
      ctx.state.route = '/oauth2/introspect';
      return introspect(ctx);
    }
    if (ctx.path === '/auth/verify') {
      openRequest(ctx);
      ctx.state.route = '/auth/verify';
      return verify(ctx);
    }
    return next();
  };
}
