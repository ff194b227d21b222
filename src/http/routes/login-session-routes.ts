/**
 * Running sign-ins (API logins, browser sign-ins, the CLI's SSO login and applications signed in
 * through Tessera's OpenID Provider): a user lists and signs out their own
 * at /api/v1/me/sessions, admins anyone's at /api/v1/users/{u}/sessions. Signing a session out
 * needs an unscoped credential: a scoped token must not end its owner's other sign-ins.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { InsufficientScope } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { presentSignIns } from '../login-session-presenter.js';
import type { UserRecord } from '../../store/records.js';
import { Session } from '../wire-schemas.js';

const SessionList = z.object({ sessions: z.array(Session) });

export function loginSessionRoutes(services: Services): ApiRouter {
  const { sessions, users } = services;
  const router = new ApiRouter({ prefix: '/api/v1', bodyLimit: services.config.server.bodyLimitBytes });
  const principal = (ctx: Context) => ctx.state.principal as Principal;
  const list = async (ctx: Context, user: UserRecord) => {
    const current = principal(ctx).sessionId;
    ctx.body = { sessions: presentSignIns(await sessions.running(user.id), user, current) };
  };
  const unscoped = async (ctx: Context, next: () => Promise<unknown>) => {
    if (principal(ctx).scopes !== null) throw new InsufficientScope('signing sessions out needs an unscoped credential');
    await next();
  };
  const auth = requirePrincipal(services);
  const tag = 'Login sessions';

  router.define(
    { method: 'get', path: '/me/sessions', tag, auth: 'bearer', summary: 'The caller\'s running sign-ins (API logins and browser sessions)', responses: { 200: { description: 'the sessions', schema: SessionList } } },
    [auth],
    (ctx) => list(ctx, principal(ctx).user),
  );
  router.define(
    {
      method: 'delete', path: '/me/sessions/{id}', tag, auth: 'bearer',
      summary: 'Sign one of the caller\'s sessions out',
      description: 'Needs an unscoped credential.',
      request: { params: z.object({ id: z.string() }) },
      responses: { 204: { description: 'signed out' } },
    },
    [auth, unscoped],
    async (ctx, { params }) => {
      await sessions.revokeRunning(principal(ctx).user.id, params.id);
      ctx.status = 204;
    },
  );
  router.define(
    {
      method: 'get', path: '/users/{username}/sessions', tag, auth: 'admin',
      summary: 'A user\'s running sign-ins',
      request: { params: z.object({ username: z.string() }) },
      responses: { 200: { description: 'the sessions', schema: SessionList } },
    },
    [auth, requireAdmin],
    async (ctx, { params }) => list(ctx, await users.get(params.username)),
  );
  router.define(
    {
      method: 'delete', path: '/users/{username}/sessions/{id}', tag, auth: 'admin',
      summary: 'Sign one of a user\'s sessions out',
      request: { params: z.object({ username: z.string(), id: z.string() }) },
      responses: { 204: { description: 'signed out' } },
    },
    [auth, requireAdmin, unscoped],
    async (ctx, { params }) => {
      await sessions.revokeRunning((await users.get(params.username)).id, params.id);
      ctx.status = 204;
    },
  );
  return router;
}
