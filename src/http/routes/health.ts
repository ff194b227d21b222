import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import { MemoryStore } from '../../store/memory/memory-store.js';

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers). */
export function healthRoutes(services: Services): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    await services.store.ping();
    ctx.body = { status: 'ok', store: services.store instanceof MemoryStore ? 'memory' : 'redis' };
  });
  return router;
}
