/**
 * Login for API clients (`POST /api/v1/login`): password → short-lived access token and
 * rotating refresh token. `auth.passwordApiLogin: false` turns the password step off, leaving PATs.
 */
import { z } from 'zod';
import { Forbidden, InvalidRequest } from '../../errors.js';
import type { Services } from '../../services.js';
import { isTesseraSecret, parseSecret } from '../../tokens/format.js';
import type { Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { principalOf, requirePrincipal } from '../authenticate.js';
import { presentUser } from '../presenters.js';
import { LoginPair, User } from '../wire-schemas.js';

/** Absent, null and empty mean "not given" for these fields, as they always have. */
const optional = z.string().nullish().transform((value) => value || undefined);
const required = z.string().min(1, { error: 'is required' });

const Login = z.object({
  username: required,
  password: required,
  source: optional.describe('the identity source to sign in with (default: each in turn)'),
  device_token: optional.describe('the device_token a previous login returned: a known device is not locked out by others\' failures'),
});

const Me = User.extend({
  authenticated_with: z.enum(['personal_access_token', 'login', 'sso_login']),
  token_id: z.string().nullable(),
  scopes: z.array(z.string()).nullable().describe('null: full rights'),
});

export function sessionRoutes(services: Services): ApiRouter {
  const { config, login, sessions, users } = services;
  const router = new ApiRouter({ prefix: '/api/v1', bodyLimit: config.server.bodyLimitBytes });
  const tag = 'Login sessions';
  const loginOn = async (_ctx: unknown, next: () => Promise<unknown>) => {
    if (!config.auth.passwordApiLogin) throw new Forbidden('password login to the API is turned off; use a personal access token');
    await next();
  };

  router.define(
    {
      method: 'post', path: '/login', tag, auth: 'none',
      summary: 'Log in with a password',
      description: 'A 5-minute access token and a rotating refresh token. Wrong user and wrong password give the same 401; repeated failures lock the account for unknown devices.',
      request: { body: Login },
      responses: { 200: { description: 'the login', schema: LoginPair.extend({ device_token: z.string() }) } },
    },
    [loginOn],
    async (ctx, { body }) => {
      // `device_token`: the device credentials a previous login returned. A client that keeps and
      // sends them back is a known device for the account, which failures from elsewhere cannot
      // lock out (src/identity/throttle.ts).
      const { user, device } = await login.signIn({ username: body.username, password: body.password, ip: ctx.ip, source: body.source, device: body.device_token });
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { ...(await sessions.start(user, ctx.ip, undefined, ctx.get('user-agent'))), device_token: device };
    },
  );

  router.define(
    {
      method: 'post', path: '/login/refresh', tag, auth: 'none',
      summary: 'Trade a refresh token for a new pair',
      description: 'The old refresh token stops working. A refresh token used twice ends the whole login.',
      request: { body: z.object({ refresh_token: required }) },
      responses: { 200: { description: 'the new pair', schema: LoginPair } },
    },
    [],
    async (ctx, { body }) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await sessions.refresh(body.refresh_token);
    },
  );

  // Ends the login of the presented access token, and/or of a refresh token in the body.
  router.define(
    {
      method: 'post', path: '/logout', tag, auth: 'none',
      summary: 'End a login',
      description: 'The login of the access token sent as Bearer, and/or of the refresh_token in the body (which also works once the access token has expired).',
      request: { body: z.object({ refresh_token: optional }) },
      responses: { 204: { description: 'ended' } },
    },
    [],
    async (ctx, { body }) => {
      const refresh = body.refresh_token;
      // With a refresh token in hand, an expired access token must not stand in the way of logout.
      const principal = refresh ? await principalOf(services, ctx).catch(() => null) : await principalOf(services, ctx);
      if (!principal && !refresh) throw new InvalidRequest('send the access token as Bearer or a refresh_token in the body');
      if (principal?.sessionId) await sessions.revoke(principal.user.id, principal.sessionId);
      if (refresh && isTesseraSecret(parseSecret(refresh))) await sessions.revokeByRefresh(refresh);
      else if (refresh) await services.bearer.revokeProviderLogin(refresh);
      ctx.status = 204;
    },
  );

  router.define(
    {
      method: 'get', path: '/me', tag: 'Users', auth: 'bearer',
      summary: 'The caller: user, credential and scopes',
      responses: { 200: { description: 'the caller', schema: Me } },
    },
    [requirePrincipal(services)],
    async (ctx) => {
      const principal = ctx.state.principal as Principal;
      ctx.body = {
        ...presentUser(principal.user, { token_creator: users.mayCreateTokens(principal.user) }),
        authenticated_with: { pat: 'personal_access_token', session: 'login', oidc: 'sso_login' }[principal.via],
        token_id: principal.tokenId ?? null,
        scopes: principal.scopes,
      };
    },
  );

  return router;
}
