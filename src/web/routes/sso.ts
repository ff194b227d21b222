/**
 * The generic endpoints of redirect sources (`/sso/<id>/...`; SAML keeps its own ACS in
 * routes/saml.ts, whose URLs IdP administrators have registered). Read top to bottom as a
 * sign-in goes:
 *
 *   GET  login      ?return=/path (web sign-in) or ?interaction=<uid> (OIDC login): stores the
 *                   pending sign-in, redirects to the provider with its key as `state`
 *   GET  callback   the provider's answer (query; POST for `response_mode=form_post`). It takes
 *   POST callback   the pending sign-in its `state` names (once, accepted or not), has the source
 *                   verify the answer, upserts the user, then hands off with a 303 to
 *   GET  complete   (web) or GET /interaction/<uid>/sso/<id> (OIDC login), which checks the
 *                   browser is the one that started it and finishes (redirect-sign-in.ts).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { Forbidden, NotFound, TesseraError } from '../../errors.js';
import type { Services } from '../../services.js';
import { errorsAsPages } from '../../http/errors.js';
import { readForm } from '../../http/body.js';
import { RedirectRateLimit } from '../../identity/redirect-rate-limit.js';
import type { RedirectSource } from '../../identity/source.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { finishInteractionSignIn, finishWebSignIn, handOffTo, signedInUser, startRedirectSignIn } from '../redirect-sign-in.js';

/** The callback's parameters, from the query or a `form_post`: only strings count. */
async function callbackParams(ctx: Context, bodyLimit: number): Promise<Record<string, string>> {
  const raw: Record<string, unknown> = ctx.method === 'POST' ? await readForm(ctx, bodyLimit) : { ...ctx.query };
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function redirectRoutes(services: Services, oidc: OpenIdProvider): Router {
  const { signIns, store, config, clock, audit } = services;
  const sources = services.redirectSources.filter((s) => s.startPath === `/sso/${s.id}/login`);
  // Each start stores a pending sign-in, each callback costs a request to the provider.
  const rateLimit = new RedirectRateLimit(store, clock, config);
  const router = new Router();
  router.use(errorsAsPages('sign-in'));

  const sourceOf = (ctx: Context): RedirectSource => {
    const source = sources.find((s) => s.id === ctx.params.id);
    if (!source) throw new NotFound('no such identity source');
    return source;
  };

  /** Every refused answer is `sso.rejected` with the error code (the message may quote the provider). */
  const recordRejection = async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      if (err instanceof TesseraError && err.status < 500 && sources.some((s) => s.id === ctx.params.id)) {
        await audit.record({ type: 'sso.rejected', outcome: 'failed', reason: err.code, source: ctx.params.id });
      }
      throw err;
    }
  };

  router.get('/sso/:id/login', async (ctx) => {
    const source = sourceOf(ctx);
    await rateLimit.hit(source.id, 'start', ctx.ip);
    await startRedirectSignIn(ctx, services, oidc, source);
  });

  const callback = async (ctx: Context): Promise<void> => {
    const source = sourceOf(ctx);
    await rateLimit.hit(source.id, 'answer', ctx.ip);
    const params = await callbackParams(ctx, config.server.bodyLimitBytes);
    // Only answers to sign-ins started here: `state` names one, used up by this answer.
    const pending = params.state ? await signIns.take(params.state) : null;
    if (pending === 'answered') throw new Forbidden('this sign-in request has already been answered: sign in again');
    if (!pending) throw new Forbidden('this sign-in request is unknown or has expired (10 minutes): sign in again');
    if (pending.source !== source.id) throw new Forbidden('the state does not belong to this source');
    const identity = await source.verifyResponse(params, pending.requestId);
    const user = await signedInUser(services, identity);
    await audit.record({ type: 'sso.signed_in', actor: { credential: 'sso', userId: user.id, username: user.username }, target: { userId: user.id, username: user.username }, source: source.id });
    const next = pending.interaction ? `/interaction/${pending.interaction}/sso/${source.id}` : `/sso/${source.id}/complete`;
    await handOffTo(ctx, services, { source: source.id, userId: user.id, browser: pending.browser, returnTo: pending.returnTo, interaction: pending.interaction }, next);
  };
  router.get('/sso/:id/callback', recordRejection, callback);
  router.post('/sso/:id/callback', recordRejection, callback);

  router.get('/sso/:id/complete', (ctx) => finishWebSignIn(ctx, services, sourceOf(ctx)));
  router.get('/interaction/:uid/sso/:id', (ctx) => finishInteractionSignIn(ctx, services, oidc, sourceOf(ctx)));

  return router;
}
