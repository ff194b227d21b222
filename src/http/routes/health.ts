import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import { TemporarilyUnavailable } from '../../errors.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { hasDurabilityChecks } from '../../store/store.js';

/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers, takes
 * writes, and its last durability check found nothing fatal). A store that answers PING but
 * refuses writes (Redis at maxmemory under noeviction) or may evict keys is not ready: a gateway
 * on it could not record a revocation. The 503 body names the failing checks; the details (which
 * node, which fix) are in the log, not on an unauthenticated endpoint.
 */
export function healthRoutes(services: Services): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const { store, storeMonitor } = services;
    await store.ping();
    const problems = [...new Set(storeMonitor.fatal().map((f) => f.setting))];
    if (hasDurabilityChecks(store)) {
      await store.probeWrite().catch((error: unknown) => {
        if (!(error instanceof TemporarilyUnavailable)) throw error;
        problems.push('writes refused');
      });
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.status = problems.length > 0 ? 503 : 200;
    ctx.body = { status: problems.length > 0 ? 'unavailable' : 'ok', store: store instanceof MemoryStore ? 'memory' : 'redis', ...(problems.length > 0 ? { problems } : {}) };
  });
  return router;
}
