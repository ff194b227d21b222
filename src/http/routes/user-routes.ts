/**
 * Admin user management: built-in users (create, change role, reset password, disable, delete)
 * and a view of users from every source.
 */
import Router from '@koa/router';
import { Forbidden, InvalidRequest } from '../../errors.js';
import type { Services } from '../../gateway.js';
import type { UserPatch } from '../../identity/users.js';
import type { Role } from '../../store/records.js';
import { isAdmin, type Principal } from '../../tokens/principal.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { readJson, stringField, type Fields } from '../body.js';
import { pageCursor, pageLimit } from '../page-query.js';
import { presentUser } from '../presenters.js';

function role(body: Fields): Role | undefined {
  const value = body.role;
  if (value === undefined) return undefined;
  if (value !== 'admin' && value !== 'normal') throw new InvalidRequest('role must be "admin" or "normal"');
  return value;
}

function enabled(body: Fields): boolean | undefined {
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw new InvalidRequest('enabled must be true or false');
  return body.enabled as boolean | undefined;
}

export function userRoutes(services: Services): Router {
  const { config, users } = services;
  const limit = config.server.bodyLimitBytes;
  const router = new Router({ prefix: '/api/v1/users' });
  const present = (user: Parameters<typeof presentUser>[0]) => presentUser(user, { token_creator: users.mayCreateTokens(user) });
  router.use(requirePrincipal(services));

  // ?q=TEXT (in username, display name or e-mail), ?limit=N&cursor=C: one page, `next` while more.
  router.get('/', requireAdmin, async (ctx) => {
    const search = typeof ctx.query.q === 'string' ? ctx.query.q : undefined;
    const page = await users.page({ limit: pageLimit(ctx.query.limit), cursor: pageCursor(ctx.query.cursor), search });
    ctx.body = { users: page.users.map(present), ...(page.next ? { next: page.next } : {}) };
  });

  router.post('/', requireAdmin, async (ctx) => {
    const body = await readJson(ctx, limit);
    const user = await users.create({
      username: stringField(body, 'username', true),
      password: stringField(body, 'password', true),
      displayName: stringField(body, 'display_name'),
      email: stringField(body, 'email'),
      role: role(body),
      enabled: enabled(body),
    });
    ctx.status = 201;
    ctx.body = present(user);
  });

  // A user may read their own record; everything else is for admins.
  router.get('/:username', async (ctx) => {
    const principal = ctx.state.principal as Principal;
    if (ctx.params.username !== principal.user.username && !isAdmin(principal)) throw new Forbidden('admins only');
    ctx.body = present(await users.get(ctx.params.username!));
  });

  router.patch('/:username', requireAdmin, async (ctx) => {
    const body = await readJson(ctx, limit);
    const patch: UserPatch = {
      displayName: stringField(body, 'display_name'),
      email: stringField(body, 'email'),
      password: stringField(body, 'password'),
      role: role(body),
      enabled: enabled(body),
    };
    if (Object.values(patch).every((v) => v === undefined)) throw new InvalidRequest('nothing to change');
    ctx.body = present(await users.update(ctx.params.username!, patch, (ctx.state.principal as Principal).user.username));
  });

  router.delete('/:username', requireAdmin, async (ctx) => {
    await users.delete(ctx.params.username!, (ctx.state.principal as Principal).user.username);
    ctx.status = 204;
  });

  // Revoke all of a user's tokens — every credential: PATs, login and browser sessions, provider
  // grants and SSO logins. The user themselves (unscoped), or an admin. `revoked` = PATs, as before.
  router.delete('/:username/tokens', async (ctx) => {
    const ended = await services.revocation.revokeUser(ctx.state.principal as Principal, ctx.params.username!);
    ctx.body = { revoked: ended.tokens, ...ended };
  });

  return router;
}
