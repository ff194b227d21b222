/**
 * Middleware that puts the caller (`ctx.state.principal`) on the context, or refuses.
 */
import type { Context, Next } from 'koa';
import { actorOf } from '../audit/actors.js';
import { setRequestActor } from '../audit/context.js';
import { Forbidden, InvalidToken, Unauthorized } from '../errors.js';
import type { Services } from '../services.js';
import { isAdmin, type Principal } from '../tokens/principal.js';
import { readAuthorization } from './credentials.js';
import { requestOf } from './request-context.js';

export interface State {
  principal: Principal;
}

/** The principal for the request's Authorization header; null when there is none. */
export async function principalOf(services: Services, ctx: Context): Promise<Principal | null> {
  const presented = readAuthorization(ctx);
  if (!presented) return null;
  const principal =
    presented.scheme === 'bearer'
      ? await services.bearer.authenticate(presented.token, ctx.ip)
      : await services.bearer.authenticateBasic(presented.username, presented.password, ctx.ip);
  if (!principal) throw new InvalidToken();
  setRequestActor(actorOf(principal), requestOf(ctx));
  return principal;
}

export const requirePrincipal = (services: Services) =>
  async function authenticate(ctx: Context, next: Next) {
    const principal = await principalOf(services, ctx);
    if (!principal) throw new Unauthorized('send a token: Authorization: Bearer <token>');
    ctx.state.principal = principal;
    await next();
  };

/** Admin actions need an admin's full-rights credential: a scoped token never reaches them. */
export async function requireAdmin(ctx: Context, next: Next) {
  if (!isAdmin(ctx.state.principal as Principal)) throw new Forbidden('this needs an administrator (with an unscoped credential)');
  await next();
}
