/** /admin/webhooks: configured endpoints and their delivery logs (the view: webhooks-page.ts). */
import type Router from '@koa/router';
import type { Services } from '../../services.js';
import type { DeliveryLogEntry } from '../../signals/delivery.js';
import { webhookQueue } from '../../signals/webhooks.js';
import { showPage } from '../views/page.js';
import { webhooksPage } from '../views/webhooks-page.js';

export function webhookAdminRoutes(router: Router, services: Services): void {
  const { store, config } = services;
  router.get('/admin/webhooks', async (ctx) => {
    const endpoints = await Promise.all(
      config.webhooks.map(async (w) => {
        const queue = webhookQueue(w.id);
        const [log, queued] = await Promise.all([store.deliveryLogRead(queue, config.signals.logSize), store.outboxSize(queue)]);
        return { id: w.id, url: w.url, events: w.events, queued, deliveries: log.map((e) => JSON.parse(e) as DeliveryLogEntry) };
      }),
    );
    showPage(ctx, { title: 'Webhooks', body: webhooksPage(endpoints) });
  });
}
