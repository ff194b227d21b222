/**
 * Audit events as HTML: the table shared by the admin audit page and the "Security log" on
 * /account, and the admin page's filter form. Everything shown is escaped by `html`.
 */
import type { ListedEvent } from '../../audit/query.js';
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';

type Party = { username?: string; userId?: string; tokenId?: string; clientId?: string } | undefined;

function party(p: Party, credential?: string): SafeHtml | string {
  if (!p) return '—';
  const name = p.username ?? p.userId ?? (p.clientId ? `client ${p.clientId}` : '');
  const via = credential === 'pat' && p.tokenId ? `token ${p.tokenId}` : credential && credential !== 'anonymous' ? credential : '';
  return html`${name || '—'}${via ? html` <span class="hint">(${via})</span>` : ''}`;
}

function target(event: ListedEvent): SafeHtml | string {
  const t = event.target;
  if (!t) return '—';
  return html`${party(t)}${t.tokenId ? html`<div class="hint">token ${t.tokenId}</div>` : ''}`;
}

function outcome(event: ListedEvent): SafeHtml {
  const css = event.outcome === 'succeeded' ? 'status-active' : event.outcome === 'failed' ? 'status-revoked' : 'status-expired';
  return html`<span class="status ${css}">${event.outcome}</span>${event.reason ? html`<div class="hint">${event.reason}</div>` : ''}`;
}

export function auditTable(events: ListedEvent[], options: { showActor: boolean }): SafeHtml {
  if (!events.length) return html`<p class="empty">No events.</p>`;
  return html`<table class="audit">
  <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Outcome</th>${options.showActor ? html`<th scope="col">Actor</th>` : ''}<th scope="col">Target</th><th scope="col">From</th></tr></thead>
  <tbody>${events.map(
    (e) => html`<tr>
    <td data-label="Time">${instant(Date.parse(e.time))}</td>
    <td data-label="Event"><code>${e.type}</code>${e.source ? html`<div class="hint">${e.source}</div>` : ''}</td>
    <td data-label="Outcome">${outcome(e)}</td>
    ${options.showActor ? html`<td data-label="Actor">${party(e.actor, e.actor.credential)}</td>` : ''}
    <td data-label="Target">${target(e)}</td>
    <td data-label="From">${e.ip ?? '—'}${e.userAgent ? html`<div class="hint">${e.userAgent.slice(0, 80)}</div>` : ''}</td>
  </tr>`,
  )}</tbody>
</table>`;
}

export interface AuditFilterValues {
  actor?: string;
  user?: string;
  token?: string;
  type?: string;
  since?: string;
  until?: string;
}

const FIELDS: [keyof AuditFilterValues, string, string][] = [
  ['type', 'Type', 'e.g. token. or login.failed'],
  ['actor', 'Actor', 'username'],
  ['user', 'Target user', 'username'],
  ['token', 'Token id', ''],
  ['since', 'Since', '24h, 7d or ISO time'],
  ['until', 'Until', 'ISO time'],
];

export function auditPage(view: { events: ListedEvent[]; next: string | null; filters: AuditFilterValues; error?: string }): SafeHtml {
  const query = new URLSearchParams(Object.entries(view.filters).filter((e): e is [string, string] => Boolean(e[1])));
  if (view.next) query.set('before', view.next);
  return html`<h1>Audit trail</h1>
<section class="card" aria-labelledby="audit-heading">
  <div class="card-head">
    <h2 id="audit-heading">Events <span class="hint">(newest first)</span></h2>
    <form method="get" action="/admin/audit" role="search" class="filters" id="audit-filters">
      ${FIELDS.map(([name, label, hint]) => html`<label for="audit-${name}">${label}</label>
      <input id="audit-${name}" name="${name}" type="text" maxlength="200" placeholder="${hint}" value="${view.filters[name] ?? ''}">`)}
      <button type="submit" class="secondary small">Filter</button>
    </form>
  </div>
  ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : auditTable(view.events, { showActor: true })}
  ${view.next ? html`<p><a href="/admin/audit?${query.toString()}" rel="next">Older events</a></p>` : ''}
</section>`;
}

/** The "Security log" section of /account: the newest events involving the signed-in user. */
export function securityLog(events: ListedEvent[]): SafeHtml {
  return html`<section class="card" aria-labelledby="security-log-heading">
  <h2 id="security-log-heading">Security log</h2>
  <p class="hint">Sign-ins, token changes and changes to your account, newest first. Something you do not recognise? Revoke your tokens and tell an administrator.</p>
  ${auditTable(events, { showActor: true })}
</section>`;
}
