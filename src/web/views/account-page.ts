/** /account: the signed-in user's own record, and the sign-out button. */
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';
import type { PresentedUser } from './users-page.js';

export interface AccountView {
  user: PresentedUser;
  /** The identity source's display name ("Built-in accounts", "Corporate LDAP"). */
  sourceName: string;
  csrf: string;
}

export function accountPage({ user, sourceName, csrf }: AccountView): SafeHtml {
  return html`<h1>Your account</h1>
<section class="card" aria-labelledby="whoami-heading">
  <h2 id="whoami-heading">Signed in as ${user.username}</h2>
  <dl class="facts">
    <dt>Display name</dt><dd>${user.display_name}</dd>
    <dt>Email</dt><dd>${user.email || '—'}</dd>
    <dt>Signs in through</dt><dd>${sourceName}</dd>
    <dt>Role</dt><dd>${user.role}</dd>
    <dt>Groups</dt><dd>${user.groups.length ? html`<ul class="plain">${user.groups.map((g) => html`<li>${g}</li>`)}</ul>` : '—'}</dd>
    <dt>May create tokens</dt><dd>${user.token_creator ? 'yes' : html`no <span class="hint">(ask an administrator)</span>`}</dd>
    <dt>Account created</dt><dd>${instant(Date.parse(user.created_at!))}</dd>
  </dl>
  <div class="actions">
    <a class="button secondary" href="/manage_tokens">Manage your tokens</a>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="_csrf" value="${csrf}">
      <button type="submit">Sign out</button>
    </form>
  </div>
</section>`;
}
