import { z } from 'zod';
import type { Services } from '../../services.js';
import { TemporarilyUnavailable } from '../../errors.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { hasDurabilityChecks } from '../../store/store.js';
import { ApiRouter } from '../api-router.js';

const Readiness = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.enum(['memory', 'redis']),
  problems: z.array(z.string()).optional().describe('the failing checks, when unavailable'),
});

/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers, takes
 * writes, and its last durability check found nothing fatal). A store that answers PING but
 * refuses writes (Redis at maxmemory under noeviction) or may evict keys is not ready: a gateway
 * on it could not record a revocation. The 503 body names the failing checks; the details (which
 * node, which fix) are in the log, not on an unauthenticated endpoint.
 */
export function healthRoutes(services: Services): ApiRouter {
  const router = new ApiRouter({ bodyLimit: services.config.server.bodyLimitBytes });
  const tag = 'Health';
  router.define(
    { method: 'get', path: '/healthz', tag, auth: 'none', summary: 'Liveness: the process answers', responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } } },
    [],
    (ctx) => {
      ctx.body = { status: 'ok' };
    },
  );
  router.define(
    {
      method: 'get', path: '/readyz', tag, auth: 'none',
      summary: 'Readiness: the store answers and takes writes',
      description: 'A store that answers but refuses writes, or may evict keys, is not ready: a gateway on it could not record a revocation.',
      responses: { 200: { description: 'ready', schema: Readiness }, 503: { description: 'not ready; the failing checks are named', schema: Readiness } },
    },
    [],
    async (ctx) => {
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
    },
  );
  return router;
}
