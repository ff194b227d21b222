/**
 * /account: who the browser is signed in as, through which source, with which role, groups and
 * token-creator permission, and the way out.
 */
import Router from '@koa/router';
import type { Services } from '../../services.js';
import { presentUser } from '../../http/presenters.js';
import { csrfToken } from '../browser-session.js';
import { readAuditPage } from '../../audit/query.js';
import { accountPage } from '../views/account-page.js';
import { securityLog } from '../views/audit-events.js';
import { html } from '../html.js';
import { seeOther, showPage } from '../views/page.js';
import { errorsAsPages } from '../../http/errors.js';
import { checkedForm, principalOf, signedIn } from './guards.js';
import { presentSignIns } from '../../http/login-session-presenter.js';
import { sessionList } from '../views/session-list.js';

export function accountPages(services: Services): Router {
  const { users, login, sessions, clock } = services;
  const router = new Router();
  router.use(errorsAsPages('pages'), signedIn(services));
  const form = checkedForm(services);

  router.get('/account', async (ctx) => {
    const { user } = principalOf(ctx);
    const log = await readAuditPage(services.store, { filter: { involving: user.id }, limit: 20 });
    const source = login.listSources().find((s) => s.id === user.source);
    const running = presentSignIns(await sessions.running(user.id), user, principalOf(ctx).sessionId);
    showPage(ctx, {
      title: 'Your account',
      body: html`${accountPage({
        user: presentUser(user, { token_creator: users.mayCreateTokens(user) }),
        sourceName: source?.displayName ?? user.source,
        csrf: csrfToken(ctx),
      })}
${sessionList({ sessions: running, revokeAction: (id) => `/account/sessions/${encodeURIComponent(id)}/revoke`, csrf: csrfToken(ctx), now: clock(), heading: 'Where you are signed in' })}
${securityLog(log.events)}`,
    });
  });

  router.post('/account/sessions/:id/revoke', form, async (ctx) => {
    await sessions.revokeRunning(principalOf(ctx).user.id, ctx.params.id!);
    seeOther(ctx, '/account');
  });
  return router;
}
