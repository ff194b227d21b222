/**
 * Admin: one user: their account (role, enabled, password), their tokens (see, revoke, revoke
 * all) and a token generated on their behalf.
 */
import type { ScopeVocabulary } from '../../tokens/scope-vocabulary.js';
import type { TesseraConfig } from '../../config/schema.js';
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';
import { tokenForm, type TokenFormValues } from './token-form.js';
import { tokenFilters, tokenTable, type PresentedToken } from './token-table.js';
import { userHref, type PresentedUser } from './users-page.js';

export interface UserPageView {
  user: PresentedUser;
  /** The admin looking at their own account: no demoting or disabling themselves. */
  self: boolean;
  /** One page of their tokens. */
  tokens: PresentedToken[];
  /** The link to the next page of their tokens, when there is one. */
  nextHref?: string;
  include: { revoked: boolean; expired: boolean };
  csrf: string;
  now: number;
  limits: TesseraConfig['tokens'];
  /** The declared scopes the token form offers. */
  vocabulary?: ScopeVocabulary;
  minPasswordLength: number;
  notice?: SafeHtml | '';
  /** A refused account form, shown in its section. */
  problem?: { section: 'account' | 'password'; message: string };
  create?: { error: string; values: TokenFormValues };
}

const hidden = (csrf: string) => html`<input type="hidden" name="_csrf" value="${csrf}">`;

function accountForms(view: UserPageView): SafeHtml {
  const { user, csrf } = view;
  const base = userHref(user.username);
  if (view.self) return html`<p class="hint">This is your own account: another administrator can change its role or disable it.</p>`;
  return html`<div class="panel">
  <h3>Role</h3>
  <form method="post" action="${base}/role" class="inline-form">
    ${hidden(csrf)}
    <label for="role" class="visually-hidden">Role of ${user.username}</label>
    <select id="role" name="role">
      <option value="normal"${user.role === 'normal' ? html` selected` : ''}>normal</option>
      <option value="admin"${user.role === 'admin' ? html` selected` : ''}>admin</option>
    </select>
    <button type="submit" class="secondary">Change role</button>
  </form>
</div>
<div class="panel">
  <h3>Access</h3>
  <form method="post" action="${base}/enabled"${user.enabled ? html` data-confirm="Disable ${user.username}? Their sign-ins end and their tokens stop working until the account is enabled again."` : ''}>
    ${hidden(csrf)}
    <input type="hidden" name="enabled" value="${user.enabled ? 'false' : 'true'}">
    <p class="hint">${user.enabled ? 'Disabling ends their sign-ins and stops their tokens.' : 'Their tokens work again once enabled, unless revoked or expired.'}</p>
    ${user.enabled ? html`<button type="submit" class="danger">Disable account</button>` : html`<button type="submit">Enable account</button>`}
  </form>
</div>`;
}

function passwordForm(view: UserPageView): SafeHtml {
  const { user } = view;
  if (user.source !== 'local') return html`<div class="panel"><h3>Password</h3><p class="hint">${user.username} signs in through <strong>${user.source}</strong>; the password is managed there.</p></div>`;
  const problem = view.problem?.section === 'password' ? html`<p class="error" role="alert" id="password-error">${view.problem.message}</p>` : '';
  return html`<div class="panel">
  <h3>Password</h3>
  <form method="post" action="${userHref(user.username)}/password" data-confirm="Reset the password of ${user.username}? Their current sign-ins end.">
    ${problem}
    ${hidden(view.csrf)}
    <label for="reset-password">New password <span class="hint">at least ${view.minPasswordLength} characters; their sign-ins end</span></label>
    <input id="reset-password" name="password" type="password" required minlength="${view.minPasswordLength}" autocomplete="new-password">
    <div class="actions"><button type="submit" class="secondary">Reset password</button></div>
  </form>
</div>`;
}

export function userPage(view: UserPageView): SafeHtml {
  const { user, csrf } = view;
  const base = userHref(user.username);
  const active = view.tokens.filter((t) => t.status === 'active').length;
  // With more pages, this page's count is not the user's total: say "all", not a number.
  const activeText = view.nextHref ? `${active}+ active` : `${active} active`;
  const revokeAllText = view.nextHref ? `Revoke all active tokens of ${user.username}?` : `Revoke all ${active} active tokens of ${user.username}?`;
  return html`<p class="crumbs"><a href="/admin/users">Users</a> ›</p>
<h1>${user.username}</h1>
${view.notice ?? ''}
<section class="card" aria-labelledby="account-heading">
  <h2 id="account-heading">Account</h2>
  <dl class="facts">
    <dt>Display name</dt><dd>${user.display_name}</dd>
    <dt>Email</dt><dd>${user.email || '—'}</dd>
    <dt>Source</dt><dd>${user.source}</dd>
    <dt>Role</dt><dd>${user.role}</dd>
    <dt>Account</dt><dd>${user.enabled ? html`<span class="status status-active">enabled</span>` : html`<span class="status status-disabled">disabled</span>`}</dd>
    <dt>Groups</dt><dd>${user.groups.length ? user.groups.join(', ') : '—'}</dd>
    <dt>May create tokens</dt><dd>${user.token_creator ? 'yes' : 'no'}</dd>
    <dt>Created</dt><dd>${instant(Date.parse(user.created_at!))}</dd>
  </dl>
  ${view.problem?.section === 'account' ? html`<p class="error" role="alert" id="account-error">${view.problem.message}</p>` : ''}
  <div class="panels">
    ${accountForms(view)}
    ${passwordForm(view)}
  </div>
</section>
<section class="card" aria-labelledby="list-heading">
  <div class="card-head">
    <h2 id="list-heading">Tokens <span class="hint">(${activeText})</span></h2>
    ${tokenFilters(base, view.include)}
  </div>
  ${tokenTable(view.tokens, {
    now: view.now,
    csrf,
    revokeAction: (id) => `/admin/tokens/${encodeURIComponent(id)}/revoke`,
    emptyText: `${user.username} has no tokens to show.`,
  })}
  ${view.nextHref ? html`<p class="pager"><a href="${view.nextHref}" rel="next">Next page</a></p>` : ''}
  ${active
    ? html`<form method="post" action="${base}/tokens/revoke-all" class="actions" data-confirm="${revokeAllText}">
    ${hidden(csrf)}
    <button type="submit" class="danger">Revoke all tokens of ${user.username}</button>
  </form>`
    : ''}
</section>
<section class="card" aria-labelledby="new-token-heading">
  ${tokenForm({
    action: `${base}/tokens`,
    csrf,
    heading: `Generate a token for ${user.username}`,
    intro: `The token acts as ${user.username}. Its secret is shown to you once: hand it over through a safe channel.`,
    limits: view.limits,
    vocabulary: view.vocabulary,
    now: view.now,
    values: view.create?.values,
    error: view.create?.error,
  })}
</section>
${view.self ? '' : deleteUserForm(base, user.username, csrf)}`;
}

/** Deleting cannot be undone: the browser asks first (data-confirm, tessera.js). */
function deleteUserForm(base: string, username: string, csrf: string): SafeHtml {
  return html`<section class="card danger-zone" aria-labelledby="delete-user-heading">
  <h2 id="delete-user-heading">Delete this user</h2>
  <p>Deleting ${username} ends their sign-ins and revokes all their tokens. It cannot be undone. Users of LDAP or SAML come back at their next sign-in unless their directory removes them too.</p>
  <form method="post" action="${base}/delete" class="actions" data-confirm="Delete user ${username} and revoke all their tokens? This cannot be undone.">
    ${hidden(csrf)}
    <button type="submit" class="danger">Delete user ${username}</button>
  </form>
</section>`;
}
