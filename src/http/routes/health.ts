import Router from '@koa/router';
import type { Services } from '../../gateway.js';

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers). */
export function healthRoutes(services: Services): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    await services.store.ping();
    ctx.body = { status: 'ok', store: services.config.store.redisUrl || services.config.store.clusterNodes ? 'redis' : 'memory' };
  });
  return router;
}
