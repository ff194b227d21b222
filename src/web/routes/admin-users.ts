/**
 * Admin pages for users: the list with search and token counts, creating a built-in user, and
 * one user's page (role, enabled, password reset). UserService and PatService hold the rules.
 */
import { ScopeVocabulary } from '../../tokens/scope-vocabulary.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { InvalidRequest } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Fields } from '../../http/body.js';
import { presentToken, presentUser } from '../../http/presenters.js';
import type { Role } from '../../store/records.js';
import { csrfToken } from '../browser-session.js';
import { doneNotice } from '../views/notices.js';
import { seeOther, showPage } from '../views/page.js';
import { includeFromQuery } from '../views/token-table.js';
import { userPage, type UserPageView } from '../views/user-page.js';
import { userHref, usersPage, type UsersPageView } from '../views/users-page.js';
import { isFormProblem, sentence } from '../../http/errors.js';
import { checkedForm, field, formOf, principalOf } from './guards.js';
import { presentSignIns } from '../../http/login-session-presenter.js';
import { html } from '../html.js';
import { sessionList } from '../views/session-list.js';

/** Rows per page of /admin/users: a screenful, cheap to render at any number of users. */
export const USERS_PER_PAGE = 50;
/** The users page counts a user's active tokens up to this; more shows as "1000+". */
const MAX_COUNTED_TOKENS = 1000;

function roleField(form: Fields): Role {
  const role = field(form, 'role');
  if (role !== 'admin' && role !== 'normal') throw new InvalidRequest('role must be "admin" or "normal"');
  return role;
}

const optional = (form: Fields, name: string) => field(form, name).trim() || undefined;

/** Tokens per page of one user's admin page, as on /manage_tokens. */
export const USER_TOKENS_PER_PAGE = 100;

/**
 * One user's admin page; `extra` carries a refused form back into it. Their tokens are read one
 * page at a time, as /manage_tokens and the API read them: the store lists O(the page), however
 * many revoked and expired records it keeps for audit (a user with 11k records cost 247 ms a view
 * read all at once). Retained records only behind the filters; `?cursor=` from "Next page".
 */
export async function showUser(ctx: Context, services: Services, username: string, extra: Partial<UserPageView> = {}, status = 200) {
  const { users, pats, clock, config } = services;
  const vocabulary = new ScopeVocabulary(config);
  const principal = principalOf(ctx);
  const user = await users.get(username);
  const include = includeFromQuery(ctx.query);
  const now = clock();
  const cursor = typeof ctx.query.cursor === 'string' && ctx.query.cursor !== '' ? ctx.query.cursor : undefined;
  const page = await pats.listPage(principal, { user: user.username, include, limit: USER_TOKENS_PER_PAGE, cursor });
  const nextHref = page.next
    ? `${userHref(user.username)}?${new URLSearchParams({ ...(include.revoked ? { revoked: '1' } : {}), ...(include.expired ? { expired: '1' } : {}), cursor: page.next })}`
    : undefined;
  const running = presentSignIns(await services.sessions.running(user.id), user, principal.sessionId);
  showPage(ctx, {
    title: `User ${user.username}`,
    status,
    body: html`${userPage({
      user: presentUser(user, { token_creator: users.mayCreateTokens(user) }),
      self: user.id === principal.user.id,
      tokens: page.tokens.map((token) => presentToken(token, page.owner, now)),
      nextHref,
      include,
      csrf: csrfToken(ctx),
      now,
      limits: config.tokens,
      vocabulary,
      minPasswordLength: config.passwords.minLength,
      notice: doneNotice(ctx.query),
      ...extra,
    })}
${sessionList({ sessions: running, revokeAction: (id) => `${userHref(user.username)}/sessions/${encodeURIComponent(id)}/revoke`, csrf: csrfToken(ctx), now, heading: `Where ${user.username} is signed in` })}`,
  });
}

export function userAdminRoutes(router: Router, services: Services): void {
  const { users, pats, config } = services;
  const form = checkedForm(services);

  /**
   * One page of users, searched and paged on the server: the store is read one page at a time
   * (a search reads a bounded number of users per request), the browser gets at most
   * USERS_PER_PAGE rows however many users there are, and token counts are read for those only.
   * `?after=` is the cursor of the page before; a page links to the next one and to the first.
   */
  async function showUsers(ctx: Context, extra: Partial<UsersPageView> = {}, status = 200) {
    const search = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const after = typeof ctx.query.after === 'string' && ctx.query.after !== '' ? ctx.query.after : undefined;
    const page = await users.page({ limit: USERS_PER_PAGE, cursor: after, search });
    const principal = principalOf(ctx);
    const counts = await Promise.all(page.users.map((u) => pats.listPage(principal, { user: u.username, limit: MAX_COUNTED_TOKENS })));
    showPage(ctx, {
      title: 'Users',
      status,
      body: usersPage({
        users: page.users.map((u, i) => ({
          user: presentUser(u, { token_creator: users.mayCreateTokens(u) }),
          activeTokens: `${counts[i]!.tokens.length}${counts[i]!.next ? '+' : ''}`,
        })),
        next: page.next,
        first: after === undefined,
        search,
        csrf: csrfToken(ctx),
        minPasswordLength: config.passwords.minLength,
        notice: doneNotice(ctx.query),
        ...extra,
      }),
    });
  }

  router.get('/admin', (ctx) => seeOther(ctx, '/admin/users'));
  router.get('/admin/users', (ctx) => showUsers(ctx));

  router.post('/admin/users', form, async (ctx) => {
    const body = formOf(ctx);
    try {
      const user = await users.create({
        username: field(body, 'username').trim(),
        password: field(body, 'password'),
        displayName: optional(body, 'display_name'),
        email: optional(body, 'email'),
        role: roleField(body),
      });
      seeOther(ctx, `${userHref(user.username)}?done=user-created`);
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      const values = { username: field(body, 'username'), display_name: field(body, 'display_name'), email: field(body, 'email'), role: field(body, 'role') };
      await showUsers(ctx, { create: { error: sentence(err.message), values } }, err.status);
    }
  });

  router.get('/admin/users/:username', (ctx) => showUser(ctx, services, ctx.params.username!));

  /** Role and enabled; UserService refuses to let admins demote or disable themselves. */
  async function changeAccount(ctx: Context, patch: { role?: Role; enabled?: boolean }, done: string) {
    const username = ctx.params.username!;
    try {
      await users.update(username, patch, principalOf(ctx).user.username);
      seeOther(ctx, `${userHref(username)}?done=${done}`);
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      await showUser(ctx, services, username, { problem: { section: 'account', message: sentence(err.message) } }, err.status);
    }
  }

  router.post('/admin/users/:username/sessions/:id/revoke', form, async (ctx) => {
    const user = await users.get(ctx.params.username!);
    await services.sessions.revokeRunning(user.id, ctx.params.id!);
    seeOther(ctx, userHref(user.username));
  });
  router.post('/admin/users/:username/role', form, (ctx) => changeAccount(ctx, { role: roleField(formOf(ctx)) }, 'role-changed'));

  router.post('/admin/users/:username/enabled', form, (ctx) => {
    const enabled = field(formOf(ctx), 'enabled') === 'true';
    return changeAccount(ctx, { enabled }, enabled ? 'enabled' : 'disabled');
  });

  router.post('/admin/users/:username/delete', form, async (ctx) => {
    const username = ctx.params.username!;
    try {
      await users.delete(username, principalOf(ctx).user.username);
      seeOther(ctx, '/admin/users?done=user-deleted');
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      await showUser(ctx, services, username, { problem: { section: 'account', message: sentence(err.message) } }, err.status);
    }
  });

  router.post('/admin/users/:username/password', form, async (ctx) => {
    const username = ctx.params.username!;
    try {
      await users.update(username, { password: field(formOf(ctx), 'password') });
      seeOther(ctx, `${userHref(username)}?done=password-reset`);
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      await showUser(ctx, services, username, { problem: { section: 'password', message: sentence(err.message) } }, err.status);
    }
  });
}
