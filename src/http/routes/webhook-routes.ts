/**
 * What admins see of webhooks: the configured endpoints (never their secrets) and each one's
 * delivery log, newest first, with what waits in its queue.
 */
import { z } from 'zod';
import type { Services } from '../../services.js';
import { NotFound } from '../../errors.js';
import { webhookQueue } from '../../signals/webhooks.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

const Endpoint = z.object({ id: z.string(), url: z.string(), events: z.array(z.string()), queued: z.number().describe('deliveries waiting') });

export function webhookRoutes(services: Services): ApiRouter {
  const router = new ApiRouter({ prefix: '/api/v1/admin/webhooks', bodyLimit: services.config.server.bodyLimitBytes });
  const steps = [requirePrincipal(services), requireAdmin];
  const { store, config } = services;
  const tag = 'Administration';

  router.define(
    { method: 'get', path: '/', tag, auth: 'admin', summary: 'The configured webhook endpoints (never their secrets)', responses: { 200: { description: 'the endpoints', schema: z.array(Endpoint) } } },
    steps,
    async (ctx) => {
      ctx.body = await Promise.all(config.webhooks.map(async (w) => ({ id: w.id, url: w.url, events: w.events, queued: await store.outboxSize(webhookQueue(w.id)) })));
    },
  );

  router.define(
    {
      method: 'get', path: '/{id}/deliveries', tag, auth: 'admin',
      summary: 'A webhook endpoint\'s delivery log, newest first',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: { description: 'the log', schema: Endpoint.omit({ events: true }).extend({ deliveries: z.array(z.looseObject({})) }) } },
    },
    steps,
    async (ctx, { params }) => {
      const endpoint = config.webhooks.find((w) => w.id === params.id);
      if (!endpoint) throw new NotFound('no such webhook endpoint');
      const queue = webhookQueue(endpoint.id);
      const [entries, queued] = await Promise.all([store.deliveryLogRead(queue, config.signals.logSize), store.outboxSize(queue)]);
      ctx.body = { id: endpoint.id, url: endpoint.url, queued, deliveries: entries.map((e) => JSON.parse(e) as unknown) };
    },
  );
  return router;
}
