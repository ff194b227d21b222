/**
 * Browser sessions for the web pages. A sign-in starts a Tessera login session (the same store
 * records as `POST /api/v1/login`) whose access token sits in an HttpOnly cookie, so disabling a
 * user or resetting a password ends their browser sessions at once, like their API logins.
 *
 * CSRF: every state-changing form carries a token derived from the session cookie (HMAC with
 * the cookie value as key). A cross-site page can neither read the cookie nor compute the token;
 * the Origin header, when the browser sends one, must also be ours.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { actorOf } from '../audit/actors.js';
import { setRequestActor } from '../audit/context.js';
import { Forbidden } from '../errors.js';
import type { Services } from '../services.js';
import type { UserRecord } from '../store/records.js';
import { parseSecret } from '../tokens/format.js';
import type { Principal } from '../tokens/principal.js';

/** `__Host-` cookies must be Secure, host-only and Path=/: used whenever we are on HTTPS. */
const cookieName = (ctx: Context) => (ctx.secure ? '__Host-tessera_session' : 'tessera_session');

export async function startWebSession(ctx: Context, services: Services, user: UserRecord): Promise<void> {
  const lifetime = services.config.web.sessionTtl;
  const { access_token } = await services.sessions.start(user, ctx.ip, lifetime, ctx.get('user-agent'));
  ctx.cookies.set(cookieName(ctx), access_token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    maxAge: lifetime,
    overwrite: true,
  });
}

/** The signed-in user of this browser, or null. Cached on the context. */
export async function webPrincipal(ctx: Context, services: Services): Promise<Principal | null> {
  if (ctx.state.webPrincipal !== undefined) return ctx.state.webPrincipal as Principal | null;
  const value = ctx.cookies.get(cookieName(ctx));
  const principal = value && parseSecret(value).kind === 'access' ? await services.bearer.authenticate(value, ctx.ip) : null;
  ctx.state.webPrincipal = principal;
  if (principal) setRequestActor(actorOf(principal));
  return principal;
}

export async function endWebSession(ctx: Context, services: Services): Promise<void> {
  const principal = await webPrincipal(ctx, services);
  if (principal?.sessionId) await services.sessions.revoke(principal.user.id, principal.sessionId);
  ctx.cookies.set(cookieName(ctx), '', { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', maxAge: 0, overwrite: true });
  ctx.state.webPrincipal = null;
}

/** The CSRF token for this browser session ('' when signed out). */
export function csrfToken(ctx: Context): string {
  const value = ctx.cookies.get(cookieName(ctx));
  return value ? createHmac('sha256', value).update('tessera-csrf').digest('base64url') : '';
}

/**
 * This site's origin as the browser sees it. Not `ctx.origin`: since Koa 3 that is the request's
 * Origin header (koajs/koa#1008), so comparing the two always passes. Behind a TLS-terminating
 * proxy this needs `server.trustProxy`, as the Secure cookie does.
 */
const siteOrigin = (ctx: Context): string => `${ctx.protocol}://${ctx.host}`;

/**
 * Throws Forbidden when the browser says a form comes from another origin. `Sec-Fetch-Site` is
 * the browser's own verdict and cannot be set by a page; browsers send it on HTTPS and loopback.
 * Without it, a concrete Origin must be ours. `Origin: null` proves nothing either way (our
 * pages' `Referrer-Policy: no-referrer` makes browsers send it for our own forms), so then, as
 * for clients that send neither header, the CSRF token decides.
 */
export function assertSameOrigin(ctx: Context, message = 'cross-site form submission refused'): void {
  const site = ctx.get('Sec-Fetch-Site');
  if (site) {
    if (site !== 'same-origin' && site !== 'none') throw new Forbidden(message);
    return;
  }
  const origin = ctx.get('Origin');
  if (origin && origin !== 'null' && origin !== siteOrigin(ctx)) throw new Forbidden(message);
}

/** Throws Forbidden unless the browser does not say the form is cross-site and its `_csrf` matches. */
export function checkCsrf(ctx: Context, form: Record<string, unknown>): void {
  assertSameOrigin(ctx);
  const expected = csrfToken(ctx);
  const given = typeof form._csrf === 'string' ? form._csrf : '';
  const ok = expected.length > 0 && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  if (!ok) throw new Forbidden('the form has expired or did not come from this site; reload the page and try again');
}
