/**
 * /admin/webhooks: each configured endpoint (never its secret), what waits in its queue, and its
 * delivery log, newest first. The same facts as `GET /api/v1/admin/webhooks/{id}/deliveries`.
 */
import type { DeliveryLogEntry } from '../../signals/delivery.js';
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  queued: number;
  deliveries: DeliveryLogEntry[];
}

function outcome(d: DeliveryLogEntry): SafeHtml {
  const css = d.outcome === 'delivered' ? 'status-active' : d.outcome === 'retrying' ? 'status-expired' : 'status-revoked';
  return html`<span class="status ${css}">${d.outcome}</span>${d.error ? html`<div class="hint">${d.error}</div>` : ''}`;
}

function deliveries(list: DeliveryLogEntry[]): SafeHtml {
  if (!list.length) return html`<p class="empty">No deliveries yet.</p>`;
  return html`<table class="deliveries">
  <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">Status</th></tr></thead>
  <tbody>${list.map(
    (d) => html`<tr>
    <td data-label="Time">${instant(Date.parse(d.at))}</td>
    <td data-label="Event"><code>${d.id}</code></td>
    <td data-label="Attempt">${d.attempt}</td>
    <td data-label="Outcome">${outcome(d)}${d.next_attempt_at ? html`<div class="hint">next ${instant(Date.parse(d.next_attempt_at))}</div>` : ''}</td>
    <td data-label="Status">${d.status ?? '—'}</td>
  </tr>`,
  )}</tbody>
</table>`;
}

export function webhooksPage(endpoints: WebhookView[]): SafeHtml {
  return html`<h1>Webhooks</h1>
<p class="lead">Signed event deliveries to the endpoints in the <code>webhooks:</code> configuration (docs/signals.md).</p>
${endpoints.length
    ? endpoints.map(
        (e) => html`<section class="card" aria-labelledby="hook-${e.id}">
  <div class="card-head"><h2 id="hook-${e.id}">${e.id} <span class="hint">(${e.queued} queued)</span></h2></div>
  <p><code>${e.url}</code> · ${e.events.length ? e.events.join(', ') : 'all events'}</p>
  ${deliveries(e.deliveries)}
</section>`,
      )
    : html`<p class="empty">No webhooks configured.</p>`}`;
}
