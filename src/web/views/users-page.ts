/**
 * Admin: the list of users from every source, with search, and the form that creates a
 * built-in user.
 */
import type { presentUser } from '../../http/presenters.js';
import { html, type SafeHtml } from '../html.js';
import { fieldErrors, type FieldPatterns } from './field-errors.js';
import { day } from './time-format.js';

export type PresentedUser = ReturnType<typeof presentUser>;

/** A refused "create user" form; the password is never sent back. */
export interface NewUserValues {
  username?: string;
  display_name?: string;
  email?: string;
  role?: string;
}

export interface UsersPageView {
  /** This page's users (a search's page may hold fewer than a full page and still go on). */
  users: { user: PresentedUser; activeTokens: string }[];
  /** The cursor of the following page; absent on the last. */
  next?: string;
  /** Whether this is the first page (else it links back to it). */
  first: boolean;
  search: string;
  csrf: string;
  minPasswordLength: number;
  notice?: SafeHtml | '';
  create?: { error: string; values: NewUserValues };
}

export const userHref = (username: string) => `/admin/users/${encodeURIComponent(username)}`;

function userRow({ user, activeTokens }: UsersPageView['users'][number]): SafeHtml {
  return html`<tr>
  <td data-label="User"><a href="${userHref(user.username)}"><strong>${user.username}</strong></a>${user.display_name !== user.username ? html`<div class="hint">${user.display_name}</div>` : ''}${user.email ? html`<div class="hint">${user.email}</div>` : ''}</td>
  <td data-label="Source">${user.source}</td>
  <td data-label="Role">${user.role}</td>
  <td data-label="Account">${user.enabled ? html`<span class="status status-active">enabled</span>` : html`<span class="status status-disabled">disabled</span>`}</td>
  <td data-label="Active tokens">${activeTokens}</td>
  <td data-label="Created">${day(Date.parse(user.created_at!))}</td>
</tr>`;
}

/** Which field a refusal of the create-user form is about (UserService's messages). */
const USER_FIELDS: FieldPatterns = {
  'new-username': /^(username\b|user \S+ already exists|a user named)/i,
  'new-password': /^password\b/i,
  'new-display-name': /^display ?name\b/i,
  'new-email': /^e-?mail\b/i,
  'new-role': /^role\b/i,
};

function createUserForm(view: UsersPageView): SafeHtml {
  const values = view.create?.values ?? {};
  const errors = fieldErrors(view.create?.error, USER_FIELDS);
  const role = values.role === 'admin' ? 'admin' : 'normal';
  return html`<form method="post" action="/admin/users" id="create-user-form">
  <h2 id="create-user-heading">Create a built-in user</h2>
  <p class="hint">Users from LDAP or SAML appear here after their first sign-in; they are managed in their directory.</p>
  ${errors.general ? html`<p class="error" role="alert" id="create-user-error">${errors.general}</p>` : ''}
  <input type="hidden" name="_csrf" value="${view.csrf}">
  <div class="grid-2">
    <div><label for="new-username">Username</label>
      <input id="new-username" name="username" type="text" required maxlength="128" autocomplete="off" autocapitalize="off" spellcheck="false" value="${values.username ?? ''}"${errors.attributes('new-username')}>${errors.after('new-username')}</div>
    <div><label for="new-password">Password <span class="hint">at least ${view.minPasswordLength} characters</span></label>
      <input id="new-password" name="password" type="password" required minlength="${view.minPasswordLength}" autocomplete="new-password"${errors.attributes('new-password')}>${errors.after('new-password')}</div>
    <div><label for="new-display-name">Display name <span class="hint">optional</span></label>
      <input id="new-display-name" name="display_name" type="text" maxlength="200" value="${values.display_name ?? ''}"${errors.attributes('new-display-name')}>${errors.after('new-display-name')}</div>
    <div><label for="new-email">Email <span class="hint">optional</span></label>
      <input id="new-email" name="email" type="email" maxlength="320" value="${values.email ?? ''}"${errors.attributes('new-email')}>${errors.after('new-email')}</div>
  </div>
  <label for="new-role">Role</label>
  <select id="new-role" name="role">
    <option value="normal"${role === 'normal' ? html` selected` : ''}>normal</option>
    <option value="admin"${role === 'admin' ? html` selected` : ''}>admin</option>
  </select>
  <div class="actions"><button type="submit">Create user</button></div>
</form>`;
}

/**
 * Next / first-page links that keep the search. Pages follow a cursor, not a number: counting or
 * skipping to page N would read every user before it.
 */
function pager(view: UsersPageView): SafeHtml | '' {
  if (view.first && !view.next) return '';
  const href = (after?: string) => `/admin/users?${new URLSearchParams({ ...(view.search ? { q: view.search } : {}), ...(after ? { after } : {}) })}`.replace(/\?$/, '');
  return html`<nav class="pager" aria-label="Pages of users">
  ${view.first ? '' : html`<a href="${href()}" rel="first">First page</a>`}
  ${view.next ? html`<a href="${href(view.next)}" rel="next">${view.search ? 'Search further' : 'Next'}</a>` : ''}
</nav>`;
}

export function usersPage(view: UsersPageView): SafeHtml {
  return html`<h1>Users</h1>
${view.notice ?? ''}
<section class="card" aria-labelledby="users-heading">
  <div class="card-head">
    <h2 id="users-heading">${view.search ? 'Matching users' : 'All users'}</h2>
    <form method="get" action="/admin/users" role="search" class="filters">
      <label for="user-search" class="visually-hidden">Search users</label>
      <input id="user-search" name="q" type="search" placeholder="Search name or email" value="${view.search}">
      <button type="submit" class="secondary small">Search</button>
    </form>
  </div>
  ${view.users.length
    ? html`<table class="users">
    <thead><tr><th scope="col">User</th><th scope="col">Source</th><th scope="col">Role</th><th scope="col">Account</th><th scope="col">Active tokens</th><th scope="col">Created</th></tr></thead>
    <tbody>${view.users.map(userRow)}</tbody>
  </table>
  ${pager(view)}`
    : view.next
      ? html`<p class="empty">No matches among the users searched so far.</p>
  ${pager(view)}`
      : html`<p class="empty">No users match.</p>`}
</section>
<section class="card" aria-labelledby="create-user-heading">${createUserForm(view)}</section>
<section class="card danger-zone" aria-labelledby="emergency-heading">
  <h2 id="emergency-heading">Emergency</h2>
  <p>If tokens may have leaked, <a href="/admin/revoke-all">revoke every token of every user</a>.</p>
</section>`;
}
