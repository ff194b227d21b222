/**
 * Login for API clients (`POST /api/v1/login`): password → short-lived access token and
 * rotating refresh token. `auth.passwordApiLogin: false` turns the password step off, leaving PATs.
 */
import Router from '@koa/router';
import { Forbidden, InvalidRequest } from '../../errors.js';
import type { Services } from '../../gateway.js';
import { isTesseraSecret, parseSecret } from '../../tokens/format.js';
import type { Principal } from '../../tokens/principal.js';
import { principalOf, requirePrincipal } from '../authenticate.js';
import { readJson, stringField } from '../body.js';
import { presentUser } from '../presenters.js';

export function sessionRoutes(services: Services): Router {
  const { config, login, sessions, users } = services;
  const limit = config.server.bodyLimitBytes;
  const router = new Router({ prefix: '/api/v1' });

  router.post('/login', async (ctx) => {
    if (!config.auth.passwordApiLogin) {
      throw new Forbidden('password login to the API is turned off; use a personal access token');
    }
    const body = await readJson(ctx, limit);
    const username = stringField(body, 'username', true);
    const password = stringField(body, 'password', true);
    // `device_token`: the device credentials a previous login returned. A client that keeps and
    // sends them back is a known device for the account, which failures from elsewhere cannot
    // lock out (src/identity/throttle.ts).
    const { user, device } = await login.signIn({ username, password, ip: ctx.ip, source: stringField(body, 'source'), device: stringField(body, 'device_token') });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...(await sessions.start(user, ctx.ip, undefined, ctx.get('user-agent'))), device_token: device };
  });

  router.post('/login/refresh', async (ctx) => {
    const body = await readJson(ctx, limit);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await sessions.refresh(stringField(body, 'refresh_token', true));
  });

  // Ends the login of the presented access token, and/or of a refresh token in the body.
  router.post('/logout', async (ctx) => {
    const body = await readJson(ctx, limit);
    const refresh = stringField(body, 'refresh_token');
    // With a refresh token in hand, an expired access token must not stand in the way of logout.
    const principal = refresh ? await principalOf(services, ctx).catch(() => null) : await principalOf(services, ctx);
    if (!principal && !refresh) throw new InvalidRequest('send the access token as Bearer or a refresh_token in the body');
    if (principal?.sessionId) await sessions.revoke(principal.user.id, principal.sessionId);
    if (refresh && isTesseraSecret(parseSecret(refresh))) await sessions.revokeByRefresh(refresh);
    else if (refresh) await services.bearer.revokeProviderLogin(refresh);
    ctx.status = 204;
  });

  router.get('/me', requirePrincipal(services), async (ctx) => {
    const principal = ctx.state.principal as Principal;
    ctx.body = {
      ...presentUser(principal.user, { token_creator: users.mayCreateTokens(principal.user) }),
      authenticated_with: { pat: 'personal_access_token', session: 'login', oidc: 'sso_login' }[principal.via],
      token_id: principal.tokenId ?? null,
      scopes: principal.scopes,
    };
  });

  return router;
}
