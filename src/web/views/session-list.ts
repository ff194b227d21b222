/**
 * A user's running sign-ins (API logins, browser sessions, the CLI's SSO login, applications
 * signed in through Tessera's OpenID Provider), each with a "Sign out" button:
 * on /account for the user's own, on the admin user page for anyone's.
 */
import type { PresentedSession } from '../../http/login-session-presenter.js';
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';

export interface SessionListView {
  sessions: PresentedSession[];
  /** Where a session's sign-out form posts, e.g. /account/sessions/<id>/revoke. */
  revokeAction: (id: string) => string;
  csrf: string;
  now: number;
  heading: string;
}

const KIND = { api: 'API login', browser: 'Browser', sso: 'CLI (SSO)', 'oidc-client': 'Application' } as const;

/** Who is signed in: the client's name for provider sign-ins, else the browser or client it reported. */
function client(s: PresentedSession): string {
  if (s.client_name) return `${s.client_name}${s.scopes?.length ? ` · ${s.scopes.join(' ')}` : ''}`;
  return s.user_agent ?? 'unknown client';
}

function row(s: PresentedSession, view: SessionListView): SafeHtml {
  const label = s.client_name ? `${KIND[s.kind]} ${s.client_name}` : `${KIND[s.kind]} from ${s.ip}`;
  return html`<tr class="session-row" data-session-id="${s.id}" data-kind="${s.kind}">
  <td data-label="Sign-in">${KIND[s.kind]}${s.current ? html` <span class="badge">this browser</span>` : ''}<br><span class="hint">${client(s)}</span></td>
  <td data-label="From">${s.ip ?? '—'}</td>
  <td data-label="Started">${instant(Date.parse(s.created_at), view.now)}</td>
  <td data-label="Last refresh">${s.last_refresh_at ? instant(Date.parse(s.last_refresh_at), view.now) : '—'}</td>
  <td data-label="Source">${s.source}</td>
  <td><form method="post" action="${view.revokeAction(s.id)}" data-confirm="Sign out this session (${label})?">
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <button type="submit" class="secondary" aria-label="Sign out ${label}, started ${s.created_at}">Sign out</button>
  </form></td>
</tr>`;
}

export function sessionList(view: SessionListView): SafeHtml {
  return html`<section class="card" aria-labelledby="sessions-heading">
  <h2 id="sessions-heading">${view.heading}</h2>
  ${view.sessions.length
    ? html`<table class="sessions">
  <thead><tr><th scope="col">Sign-in</th><th scope="col">From</th><th scope="col">Started</th><th scope="col">Last refresh</th><th scope="col">Source</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${view.sessions.map((s) => row(s, view))}</tbody>
</table>`
    : html`<p class="hint">No running sign-ins.</p>`}
</section>`;
}
