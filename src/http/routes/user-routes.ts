/**
 * Admin user management: built-in users (create, change role, reset password, disable, delete)
 * and a view of users from every source.
 */
import { z } from 'zod';
import { Forbidden, InvalidRequest } from '../../errors.js';
import type { Services } from '../../services.js';
import type { UserPatch } from '../../identity/users.js';
import { isAdmin, type Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { pageQuery } from '../page-query.js';
import { presentUser } from '../presenters.js';
import { RevokedCounts, User } from '../wire-schemas.js';

/** Absent, null and empty mean "not given" for these fields, as they always have. */
const optional = z.string().nullish().transform((value) => value || undefined);
const role = z.enum(['admin', 'normal'], { error: 'must be "admin" or "normal"' }).optional();
const enabled = z.boolean({ error: 'must be true or false' }).optional();

const CreateUser = z.object({
  username: z.string().min(1, { error: 'is required' }),
  password: z.string().min(1, { error: 'is required' }),
  display_name: optional,
  email: optional,
  role: role.describe('default normal'),
  enabled: enabled.describe('default true'),
});

const UpdateUser = z.object({
  display_name: optional,
  email: optional,
  password: optional.describe('a new password (built-in users)'),
  role,
  enabled,
});

const ByName = z.object({ username: z.string() });

export function userRoutes(services: Services): ApiRouter {
  const { config, users } = services;
  const router = new ApiRouter({ prefix: '/api/v1/users', bodyLimit: config.server.bodyLimitBytes });
  const present = (user: Parameters<typeof presentUser>[0]) => presentUser(user, { token_creator: users.mayCreateTokens(user) });
  const auth = requirePrincipal(services);
  const tag = 'Users';

  // ?q=TEXT (in username, display name or e-mail), ?limit=N&cursor=C: one page, `next` while more.
  router.define(
    {
      method: 'get', path: '/', tag, auth: 'admin',
      summary: 'List users of every source, by page',
      description: 'In username order. A search reads at most 1,000 users per request, so a page of matches may be short and still have next.',
      request: { query: z.object({ q: z.string().optional().describe('only users whose username, display name or email contains this'), ...pageQuery }) },
      responses: { 200: { description: 'a page of users', schema: z.object({ users: z.array(User), next: z.string().optional() }) } },
    },
    [auth, requireAdmin],
    async (ctx, { query }) => {
      const page = await users.page({ limit: query.limit ?? 100, cursor: query.cursor, search: query.q });
      ctx.body = { users: page.users.map(present), ...(page.next ? { next: page.next } : {}) };
    },
  );

  router.define(
    {
      method: 'post', path: '/', tag, auth: 'admin',
      summary: 'Create a built-in user',
      request: { body: CreateUser },
      responses: { 201: { description: 'the user', schema: User } },
    },
    [auth, requireAdmin],
    async (ctx, { body }) => {
      const user = await users.create({ username: body.username, password: body.password, displayName: body.display_name, email: body.email, role: body.role, enabled: body.enabled });
      ctx.status = 201;
      ctx.body = present(user);
    },
  );

  // A user may read their own record; everything else is for admins.
  router.define(
    {
      method: 'get', path: '/{username}', tag, auth: 'bearer',
      summary: 'Describe a user',
      description: 'Users may read their own record; admins anyone\'s.',
      request: { params: ByName },
      responses: { 200: { description: 'the user', schema: User } },
    },
    [auth],
    async (ctx, { params }) => {
      const principal = ctx.state.principal as Principal;
      if (params.username !== principal.user.username && !isAdmin(principal)) throw new Forbidden('admins only');
      ctx.body = present(await users.get(params.username));
    },
  );

  router.define(
    {
      method: 'patch', path: '/{username}', tag, auth: 'admin',
      summary: 'Change a user: role, enabled, display name, email, password',
      description: 'Admins cannot demote or disable themselves.',
      request: { params: ByName, body: UpdateUser },
      responses: { 200: { description: 'the user', schema: User } },
    },
    [auth, requireAdmin],
    async (ctx, { params, body }) => {
      const patch: UserPatch = { displayName: body.display_name, email: body.email, password: body.password, role: body.role, enabled: body.enabled };
      if (Object.values(patch).every((v) => v === undefined)) throw new InvalidRequest('nothing to change');
      ctx.body = present(await users.update(params.username, patch, (ctx.state.principal as Principal).user.username));
    },
  );

  router.define(
    {
      method: 'delete', path: '/{username}', tag, auth: 'admin',
      summary: 'Delete a user',
      request: { params: ByName },
      responses: { 204: { description: 'deleted' } },
    },
    [auth, requireAdmin],
    async (ctx, { params }) => {
      await users.delete(params.username, (ctx.state.principal as Principal).user.username);
      ctx.status = 204;
    },
  );

  // Every credential of the user: PATs, login and browser sessions, provider grants and SSO
  // logins. The user themselves (unscoped), or an admin. `revoked` = PATs, as before.
  router.define(
    {
      method: 'delete', path: '/{username}/tokens', tag: 'Personal access tokens', auth: 'bearer',
      summary: 'Revoke every credential of a user',
      description: 'Personal access tokens, login and browser sessions, provider grants and single sign-on sessions. The user themselves with an unscoped credential, or an admin.',
      request: { params: ByName },
      responses: { 200: { description: 'what was ended', schema: RevokedCounts.extend({ revoked: z.number().describe('personal access tokens, as tokens') }) } },
    },
    [auth],
    async (ctx, { params }) => {
      const ended = await services.revocation.revokeUser(ctx.state.principal as Principal, params.username);
      ctx.body = { revoked: ended.tokens, ...ended };
    },
  );

  return router;
}
