/**
 * What admins see of webhooks: the configured endpoints (never their secrets) and each one's
 * delivery log, newest first, with what waits in its queue.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import { NotFound } from '../../errors.js';
import { webhookQueue } from '../../signals/webhooks.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

export function webhookRoutes(services: Services): Router {
  const router = new Router({ prefix: '/api/v1/admin/webhooks' });
  router.use(requirePrincipal(services), requireAdmin);
  const { store, config } = services;

  router.get('/', async (ctx) => {
    ctx.body = await Promise.all(config.webhooks.map(async (w) => ({ id: w.id, url: w.url, events: w.events, queued: await store.outboxSize(webhookQueue(w.id)) })));
  });

  router.get('/:id/deliveries', async (ctx) => {
    const endpoint = config.webhooks.find((w) => w.id === ctx.params.id);
    if (!endpoint) throw new NotFound('no such webhook endpoint');
    const queue = webhookQueue(endpoint.id);
    const [entries, queued] = await Promise.all([store.deliveryLogRead(queue, config.signals.logSize), store.outboxSize(queue)]);
    ctx.body = { id: endpoint.id, url: endpoint.url, queued, deliveries: entries.map((e) => JSON.parse(e) as unknown) };
  });
  return router;
}
