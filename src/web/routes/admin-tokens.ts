/**
 * Admin pages for tokens: generate one for a user (the secret shown once, to the admin), revoke
 * one or all of a user's, and the emergency "revoke every token" behind a typed confirmation.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../services.js';
import { presentToken } from '../../http/presenters.js';
import { csrfToken, startWebSession } from '../browser-session.js';
import { createdTokenCard } from '../views/created-token.js';
import { doneNotice } from '../views/notices.js';
import { seeOther, showPage } from '../views/page.js';
import { REVOKE_ALL_PHRASE, revokeAllPage } from '../views/revoke-all-page.js';
import { tokenFormValues, tokenInputFromForm } from '../views/token-form.js';
import { userHref } from '../views/users-page.js';
import { showUser } from './admin-users.js';
import { isFormProblem, sentence } from '../../http/errors.js';
import { checkedForm, field, formOf, principalOf } from './guards.js';

export function tokenAdminRoutes(router: Router, services: Services): void {
  const { pats, clock } = services;
  const form = checkedForm(services);

  router.post('/admin/users/:username/tokens', form, async (ctx) => {
    const username = ctx.params.username!;
    try {
      const created = await pats.create(principalOf(ctx), { ...tokenInputFromForm(formOf(ctx)), user: username });
      const now = clock();
      showPage(ctx, {
        title: 'Token created',
        status: 201,
        body: createdTokenCard({ secret: created.secret, token: presentToken(created.record, created.owner, now), evicted: created.evicted, backHref: userHref(username), now }),
      });
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      await showUser(ctx, services, username, { create: { error: sentence(err.message), values: tokenFormValues(formOf(ctx)) } }, err.status);
    }
  });

  router.post('/admin/users/:username/tokens/revoke-all', form, async (ctx) => {
    const username = ctx.params.username!;
    const ended = await services.revocation.revokeUser(principalOf(ctx), username);
    seeOther(ctx, `${userHref(username)}?done=revoked-all&count=${ended.tokens}&sessions=${ended.sessions}&grants=${ended.grants}`);
  });

  router.post('/admin/tokens/:id/revoke', form, async (ctx) => {
    const { owner } = await pats.revoke(principalOf(ctx), ctx.params.id!);
    seeOther(ctx, `${userHref(owner.username)}?done=revoked`);
  });

  async function showRevokeAll(ctx: Context, error?: string, status = 200) {
    showPage(ctx, {
      title: 'Revoke every token',
      status,
      body: revokeAllPage({ csrf: csrfToken(ctx), notice: doneNotice(ctx.query), error }),
    });
  }

  router.get('/admin/revoke-all', (ctx) => showRevokeAll(ctx));

  router.post('/admin/revoke-all', form, async (ctx) => {
    if (field(formOf(ctx), 'confirm').trim() !== REVOKE_ALL_PHRASE) {
      return showRevokeAll(ctx, `Nothing was revoked: type ${REVOKE_ALL_PHRASE} exactly to confirm.`, 400);
    }
    const result = await services.revocation.revokeEverything(principalOf(ctx));
    // This browser's session ended with every other; the admin who just proved it is them (session
    // and CSRF token) gets a new one, issued after the switch, to read the outcome.
    await startWebSession(ctx, services, principalOf(ctx).user);
    seeOther(ctx, `/admin/revoke-all?done=revoked-everything&tokens=${result.tokens}&users=${result.users}&sessions=${result.sessions}&grants=${result.grants}`);
  });
}
