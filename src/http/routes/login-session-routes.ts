/**
 * Running sign-ins (API logins, browser sign-ins, the CLI's SSO login and applications signed in
 * through Tessera's OpenID Provider): a user lists and signs out their own
 * at /api/v1/me/sessions, admins anyone's at /api/v1/users/{u}/sessions. Signing a session out
 * needs an unscoped credential: a scoped token must not end its owner's other sign-ins.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { InsufficientScope } from '../../errors.js';
import type { Services } from '../../gateway.js';
import type { Principal } from '../../tokens/principal.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { presentSignIns } from '../session-presenter.js';
import type { UserRecord } from '../../store/records.js';

export function loginSessionRoutes(services: Services): Router {
  const { sessions, users } = services;
  const router = new Router({ prefix: '/api/v1' });
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
  router.get('/me/sessions', auth, (ctx) => list(ctx, principal(ctx).user));
  router.delete('/me/sessions/:id', auth, unscoped, async (ctx) => {
    await sessions.revokeRunning(principal(ctx).user.id, ctx.params.id!);
    ctx.status = 204;
  });
  router.get('/users/:username/sessions', auth, requireAdmin, async (ctx) => list(ctx, await users.get(ctx.params.username!)));
  router.delete('/users/:username/sessions/:id', auth, requireAdmin, unscoped, async (ctx) => {
    await sessions.revokeRunning((await users.get(ctx.params.username!)).id, ctx.params.id!);
    ctx.status = 204;
  });
  return router;
}
