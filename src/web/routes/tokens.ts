/**
 * The user's own tokens (/manage_tokens): list, generate,
 * describe, revoke, revoke all. Every rule is PatService's; these routes read the form, call it,
 * and show the answer. A refused form comes back with its error and what was typed.
 */
import { ScopeVocabulary } from '../../tokens/scope-vocabulary.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../services.js';
import { presentToken } from '../../http/presenters.js';
import { csrfToken, startWebSession } from '../browser-session.js';
import { createdTokenCard } from '../views/created-token.js';
import { doneNotice } from '../views/notices.js';
import { seeOther, showPage } from '../views/page.js';
import { normaliseLines, tokenFormValues, tokenInputFromForm } from '../views/token-form.js';
import { includeFromQuery } from '../views/token-table.js';
import { tokensPage, type TokensPageView } from '../views/tokens-page.js';
import { expiryBanner } from '../views/expiry-banner.js';
import { expiringSoon } from '../../signals/expiry-notices.js';
import { html } from '../html.js';
import { errorsAsPages, isFormProblem, notFoundPage, sentence } from '../../http/errors.js';
import { checkedForm, field, formOf, principalOf, signedIn } from './guards.js';

/** Tokens per page of /manage_tokens. */
const PAGE_SIZE = 100;

export function tokenPages(services: Services): Router {
  const { pats, users, clock, config } = services;
  const vocabulary = new ScopeVocabulary(config);
  const router = new Router();
  router.use(errorsAsPages('pages'), signedIn(services));
  const form = checkedForm(services);

  async function showTokens(ctx: Context, extra: Partial<TokensPageView> = {}, status = 200) {
    const principal = principalOf(ctx);
    const include = includeFromQuery(ctx.query);
    const now = clock();
    // One page at a time (the store lists O(the page)); `?cursor=` comes from the "Next page" link.
    const cursor = typeof ctx.query.cursor === 'string' && ctx.query.cursor !== '' ? ctx.query.cursor : undefined;
    const page = await pats.listPage(principal, { include, limit: PAGE_SIZE, cursor });
    const nextHref = page.next
      ? `/manage_tokens?${new URLSearchParams({ ...(include.revoked ? { revoked: '1' } : {}), ...(include.expired ? { expired: '1' } : {}), cursor: page.next })}`
      : undefined;
    showPage(ctx, {
      title: 'Your tokens',
      status,
      body: tokensPage({
        tokens: page.tokens.map((token) => presentToken(token, page.owner, now)),
        nextHref,
        include,
        csrf: csrfToken(ctx),
        now,
        limits: config.tokens,
        vocabulary,
        mayCreate: users.mayCreateTokens(principal.user),
        notice: html`${doneNotice(ctx.query)}${expiryBanner(expiringSoon(page.owner.id === principal.user.id ? page.tokens : [], config.notifications.expiryDays, now), now)}`,
        ...extra,
      }),
    });
  }

  router.get('/manage_tokens', (ctx) => showTokens(ctx));

  // The one response that carries the secret: rendered here, never redirected to.
  router.post('/manage_tokens', form, async (ctx) => {
    try {
      const created = await pats.create(principalOf(ctx), tokenInputFromForm(formOf(ctx)));
      const now = clock();
      showPage(ctx, {
        title: 'Token created',
        status: 201,
        body: createdTokenCard({ secret: created.secret, token: presentToken(created.record, created.owner, now), evicted: created.evicted, backHref: '/manage_tokens', now }),
      });
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      await showTokens(ctx, { create: { error: sentence(err.message), values: tokenFormValues(formOf(ctx)) } }, err.status);
    }
  });

  router.post('/manage_tokens/revoke-all', form, async (ctx) => {
    const principal = principalOf(ctx);
    const ended = await services.revocation.revokeUser(principal, principal.user.username);
    // This browser's session ended with the rest; the user who asked gets a new one, issued
    // after the revoke, so they stay on the page and read the outcome.
    await startWebSession(ctx, services, principal.user);
    seeOther(ctx, `/manage_tokens?done=revoked-all&count=${ended.tokens}&sessions=${ended.sessions}&grants=${ended.grants}`);
  });

  // Like creation, the one response carrying the new secret.
  router.post('/manage_tokens/:id/rotate', form, async (ctx) => {
    const grace = field(formOf(ctx), 'grace');
    const rotated = await pats.rotate(principalOf(ctx), ctx.params.id!, grace || undefined);
    const now = clock();
    showPage(ctx, {
      title: 'Token regenerated',
      status: 201,
      body: createdTokenCard({ secret: rotated.secret, token: presentToken(rotated.record, rotated.owner, now), evicted: rotated.evicted, replaced: { id: rotated.replaced.id, endsAt: rotated.replacedEndsAt }, backHref: '/manage_tokens', now }),
    });
  });

  router.post('/manage_tokens/:id/revoke', form, async (ctx) => {
    await pats.revoke(principalOf(ctx), ctx.params.id!);
    seeOther(ctx, '/manage_tokens?done=revoked');
  });

  router.post('/manage_tokens/:id/description', form, async (ctx) => {
    const id = ctx.params.id!;
    const description = normaliseLines(field(formOf(ctx), 'description'));
    try {
      await pats.update(principalOf(ctx), id, { description });
      seeOther(ctx, '/manage_tokens?done=described');
    } catch (err) {
      if (!isFormProblem(err)) throw err;
      await showTokens(ctx, { describeProblem: { id, message: sentence(err.message), value: description } }, err.status);
    }
  });

  router.all('/manage_tokens/{*rest}', notFoundPage);
  return router;
}
