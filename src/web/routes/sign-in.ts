/**
 * Web sign-in and sign-out: `GET/POST /login`, `POST /logout`, and `/` sending people where they
 * belong. A sign-in starts a browser session (src/web/browser-session.ts) and returns to the page that
 * asked for it, if that is a path on this site.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { Forbidden, TesseraError } from '../../errors.js';
import type { Services } from '../../services.js';
import { readForm, stringField } from '../../http/body.js';
import { html } from '../html.js';
import { signInWithDevice } from '../device-cookie.js';
import { hostCookie } from '../host-cookies.js';
import { signInFailure, signInForm } from './interaction.js';
import { renderPage } from '../views/layout.js';
import { safeReturnPath } from '../return-path.js';
import { assertSameOrigin, checkCsrf, endWebSession, startWebSession, webPrincipal } from '../browser-session.js';
import { seeOther } from '../views/page.js';
import { errorsAsPages } from '../../http/errors.js';
import { signInButtons } from '../views/sign-in-buttons.js';

const HOME = '/manage_tokens';

/**
 * Sources that sign in by sending the browser elsewhere (SAML, OpenID Connect): one button each
 * on the sign-in page, each returning to `returnTo` afterwards.
 */
export function redirectSourcesFor(services: Services, returnTo: string): { displayName: string; href: string }[] {
  return signInButtons(services.redirectSources, { returnTo });
}


interface SignInState {
  returnTo?: string;
  error?: string;
  username?: string;
  status?: number;
  notice?: string;
}

/**
 * Login CSRF: before a session exists there is no session-bound token, so the sign-in form gets a
 * double-submit one: a random value in a cookie (HttpOnly, SameSite=Lax) and in the form. Another
 * site can neither read the cookie nor set it for us (`__Host-` on https: host-cookies.ts), so it
 * cannot post a matching form.
 */
const loginCsrfCookie = (services: Services) => hostCookie(services, 'tessera_login_csrf', '/login');

function loginCsrf(ctx: Context, services: Services): string {
  const cookie = loginCsrfCookie(services);
  let value = cookie.get(ctx);
  if (!value || !/^[A-Za-z0-9_-]{32}$/.test(value)) {
    value = randomBytes(24).toString('base64url');
    cookie.set(ctx, value);
  }
  return value;
}

function checkLoginCsrf(ctx: Context, services: Services, form: Record<string, unknown>): void {
  const cookie = loginCsrfCookie(services).get(ctx) ?? '';
  const given = typeof form._csrf === 'string' ? form._csrf : '';
  if (!cookie || cookie.length !== given.length || !timingSafeEqual(Buffer.from(cookie), Buffer.from(given))) {
    throw new Forbidden('The sign-in form has expired or came from another site. Reload the page and sign in again.');
  }
}

function showSignIn(ctx: Context, services: Services, state: SignInState): void {
  const returnTo = state.returnTo ?? HOME;
  const hidden = html`<input type="hidden" name="_csrf" value="${loginCsrf(ctx, services)}">${state.returnTo ? html`<input type="hidden" name="return" value="${state.returnTo}">` : ''}`;
  renderPage(ctx, {
    title: 'Sign in',
    status: state.status ?? 200,
    body: signInForm({
      action: '/login',
      heading: 'Sign in to Tessera',
      intro: state.notice,
      sources: services.login.listSources(),
      redirectSources: redirectSourcesFor(services, returnTo),
      banner: services.config.loginBanner,
      error: state.error,
      username: state.username,
      extra: hidden,
    }),
  });
}

export function signInPages(services: Services): Router {
  const router = new Router();
  router.use(errorsAsPages('pages'));

  router.get('/', async (ctx) => {
    seeOther(ctx, (await webPrincipal(ctx, services)) ? HOME : '/login');
  });

  router.get('/login', async (ctx) => {
    const returnTo = safeReturnPath(ctx.query.return) ?? undefined;
    if (await webPrincipal(ctx, services)) return seeOther(ctx, returnTo ?? HOME);
    showSignIn(ctx, services, { returnTo, notice: ctx.query.done === 'signed-out' ? 'You have signed out.' : undefined });
  });

  router.post('/login', async (ctx) => {
    // Login CSRF would sign the browser in to an account of the attacker's choosing: the browser's
    // own cross-site verdict where it gives one, and the double-submit token always.
    assertSameOrigin(ctx, 'Sign-in forms from other sites are refused.');
    const form = await readForm(ctx, services.config.server.bodyLimitBytes);
    checkLoginCsrf(ctx, services, form);
    const username = stringField(form, 'username') ?? '';
    const returnTo = safeReturnPath(form.return) ?? undefined;
    let user;
    try {
      user = await signInWithDevice(ctx, services, { username, password: stringField(form, 'password') ?? '', source: stringField(form, 'source') });
    } catch (err) {
      const failure = signInFailure(err);
      if (!failure) throw err;
      ctx.set((err as TesseraError).headers);
      return showSignIn(ctx, services, { returnTo, username, error: failure.message, status: failure.status });
    }
    // Signing in as someone else ends the previous session rather than leaving it behind.
    if (await webPrincipal(ctx, services)) await endWebSession(ctx, services);
    await startWebSession(ctx, services, user);
    seeOther(ctx, returnTo ?? HOME);
  });

  router.post('/logout', async (ctx) => {
    if (await webPrincipal(ctx, services)) checkCsrf(ctx, await readForm(ctx, services.config.server.bodyLimitBytes));
    await endWebSession(ctx, services);
    seeOther(ctx, '/login?done=signed-out');
  });

  return router;
}
