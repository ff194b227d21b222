/**
 * The Koa application: the error mapper first (it wraps everything below it), a few response
 * headers, then each area's router. Unknown routes fall through to a 404 error.
 */
import Koa from 'koa';
import type { Services } from '../gateway.js';
import { errorHandler } from './errors.js';
import { forwardAuthRoutes } from './routes/forward-auth.js';
import { healthRoutes } from './routes/health.js';
import { oauthRoutes } from './routes/oauth-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { userRoutes } from './routes/user-routes.js';

export function createApp(services: Services): Koa {
  const app = new Koa({ proxy: services.config.server.trustProxy });
  // Koa prints every error itself unless told not to; errorHandler decides what is logged.
  app.silent = true;
  app.use(errorHandler);
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  });
  // The hot paths (introspection, forward auth) come first so they pass the fewest routers.
  for (const router of [oauthRoutes(services), forwardAuthRoutes(services), healthRoutes(services), sessionRoutes(services), userRoutes(services), tokenRoutes(services)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
