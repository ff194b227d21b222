/**
 * /account: who the browser is signed in as, through which source, with which role, groups and
 * token-creator permission, and the way out.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import { presentUser } from '../../http/presenters.js';
import { csrfToken } from '../session.js';
import { readAuditPage } from '../../audit/query.js';
import { accountPage } from '../views/account-page.js';
import { securityLog } from '../views/audit-events.js';
import { html } from '../html.js';
import { showPage } from '../views/page.js';
import { showErrorsAsPages } from './error-pages.js';
import { principalOf, signedIn } from './guards.js';

export function accountPages(services: Services): Router {
  const { users, login } = services;
  const router = new Router();
  router.use(showErrorsAsPages, signedIn(services));

  router.get('/account', async (ctx) => {
    const { user } = principalOf(ctx);
    const log = await readAuditPage(services.store, { filter: { involving: user.id }, limit: 20 });
    const source = login.listSources().find((s) => s.id === user.source);
    showPage(ctx, {
      title: 'Your account',
      body: html`${accountPage({
        user: presentUser(user, { token_creator: users.mayCreateTokens(user) }),
        sourceName: source?.displayName ?? user.source,
        csrf: csrfToken(ctx),
      })}
${securityLog(log.events)}`,
    });
  });
  return router;
}
