/**
 * The OpenID Provider's interaction pages: sign in (choose a source, give a password) and
 * consent. oidc-provider sends the browser to /interaction/:uid; the interaction is bound to its
 * `_interaction` cookie, so a form posted cross-site (no cookie) cannot complete someone else's.
 *
 * Identity sources that redirect (SAML) finish with a top-level GET back to this origin, which
 * carries the cookie even under SameSite=Lax; they never rely on the IdP's cross-site POST
 * carrying it.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { TesseraError, TooManyConcurrentAttempts } from '../../errors.js';
import type { Services } from '../../services.js';
import { readForm, stringField } from '../../http/body.js';
import { errorsAsPages, PAGE_MESSAGES } from '../../http/errors.js';
import { cliRefuses, type OpenIdProvider } from '../../oauth/provider.js';
import { signInWithDevice } from '../device-cookie.js';
import { html } from '../html.js';
import { renderPage } from '../views/layout.js';
import { signInButtons } from '../views/sign-in-buttons.js';

interface SignInView {
  action: string;
  sources: { id: string; displayName: string }[];
  /** Sources that sign in by redirecting the browser (SAML): one button each. */
  redirectSources?: { displayName: string; href: string }[];
  banner?: string;
  error?: string;
  username?: string;
  heading: string;
  intro?: string;
  extra?: ReturnType<typeof html>;
}

/** The sign-in form, shared by the web sign-in page and the OIDC login interaction. */
export function signInForm(view: SignInView) {
  return html`<section class="card narrow">
  <h1>${view.heading}</h1>
  ${view.intro ? html`<p>${view.intro}</p>` : ''}
  ${view.banner ? html`<p class="banner">${view.banner}</p>` : ''}
  ${view.error ? html`<p class="error" role="alert" id="sign-in-error">${view.error}</p>` : ''}
  <form method="post" action="${view.action}">
    ${view.extra ?? ''}
    ${view.sources.length > 1
      ? html`<label for="source">Sign in with</label>
    <select id="source" name="source">${view.sources.map((s) => html`<option value="${s.id}">${s.displayName}</option>`)}</select>`
      : ''}
    <label for="username">Username</label>
    <input id="username" name="username" type="text" autocomplete="username" required value="${view.username ?? ''}" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <div class="actions"><button type="submit">Sign in</button></div>
  </form>
  ${view.redirectSources?.length
    ? html`<div class="sources">${view.redirectSources.map((s) => html`<a class="button secondary" href="${s.href}">Sign in with ${s.displayName}</a>`)}</div>`
    : ''}
</section>`;
}

/**
 * What a person is told when a password sign-in fails, shared by the web sign-in page and the
 * OIDC login interaction: the same words whatever went wrong, so a page does not reveal which
 * usernames exist. Null for errors that are not the sign-in's to explain (they propagate).
 */
export function signInFailure(err: unknown): { message: string; status: number } | null {
  if (!(err instanceof TesseraError) || (err.status >= 500 && err.status !== 503)) return null;
  if (err instanceof TooManyConcurrentAttempts) return { message: PAGE_MESSAGES.sign_in_busy.sentence, status: 429 };
  if (err.status === 429) return { message: PAGE_MESSAGES.sign_in_throttled.sentence, status: 429 };
  if (err.status === 503) return { message: PAGE_MESSAGES.sign_in_unavailable.sentence, status: 503 };
  return { message: PAGE_MESSAGES.sign_in_refused.sentence, status: 401 };
}

export function interactionRoutes(services: Services, oidc: OpenIdProvider): Router {
  const { config, login } = services;
  const router = new Router({ prefix: '/interaction' });
  const limit = config.server.bodyLimitBytes;

  // People see these pages: errors (an expired interaction, a cross-site post without the
  // interaction cookie) become a page, not JSON.
  router.use(errorsAsPages('interaction'));

  const showSignIn = async (ctx: Context, uid: string, clientName: string, error?: string, username?: string) =>
    renderPage(ctx, {
      title: 'Sign in',
      status: error ? 401 : 200,
      formsLeaveSite: true,
      body: signInForm({
        action: `/interaction/${uid}/login`,
        sources: login.listSources(),
        banner: config.loginBanner,
        heading: 'Sign in',
        intro: `to continue to ${clientName}`,
        redirectSources: signInButtons(services.redirectSources, { interaction: uid }),
        error,
        username,
      }),
    });

  router.get('/:uid', async (ctx) => {
    const provider = oidc.current;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const client = await provider.Client.find(details.params.client_id as string);
    const clientName = client?.clientName ?? (details.params.client_id as string);
    if (details.prompt.name === 'login') return showSignIn(ctx, details.uid, clientName);

    const scopes = String(details.params.scope ?? '').split(' ').filter(Boolean);
    renderPage(ctx, {
      title: 'Allow access',
      formsLeaveSite: true,
      body: html`<section class="card narrow">
  <h1>Allow ${clientName}?</h1>
  <p>${clientName} asks for:</p>
  <ul>${scopes.map((s) => html`<li><code>${s}</code></li>`)}</ul>
  <form method="post" action="/interaction/${details.uid}/confirm">
    <div class="actions">
      <button type="submit" name="decision" value="allow">Allow</button>
      <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
    </div>
  </form>
</section>`,
    });
  });

  router.post('/:uid/login', async (ctx) => {
    const provider = oidc.current;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const body = await readForm(ctx, limit);
    const username = stringField(body, 'username') ?? '';
    const client = await provider.Client.find(details.params.client_id as string);
    try {
      const user = await signInWithDevice(ctx, services, { username, password: stringField(body, 'password') ?? '', source: stringField(body, 'source') });
      // `oidc.cliClient: { admins: false }`: the request ends as denied, and the device is told so.
      const result = cliRefuses(services, client?.clientId, user)
        ? { error: 'access_denied', error_description: 'administrators cannot sign in to the CLI this way; use a password login or a personal access token' }
        : { login: { accountId: user.id } };
      await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.respond = false;
    } catch (err) {
      const failure = signInFailure(err);
      if (!failure) throw err;
      // Retry-After of a throttled or unavailable sign-in, as on every other 429/503.
      ctx.set((err as TesseraError).headers);
      await showSignIn(ctx, details.uid, client?.clientName ?? String(details.params.client_id), failure.message, username);
      ctx.status = failure.status;
    }
  });

  router.post('/:uid/confirm', async (ctx) => {
    const provider = oidc.current;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const body = await readForm(ctx, limit);
    if (body.decision !== 'allow') {
      await provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'the user denied access' }, { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });

  return router;
}
