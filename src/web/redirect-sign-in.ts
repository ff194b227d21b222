/**
 * The steps every redirect sign-in shares, whatever the source's kind (SAML's routes in
 * routes/saml.ts, the generic `/sso/<id>/...` routes in routes/sso.ts):
 *
 *   start     store the pending sign-in under a fresh opaque key, bound to this browser by a
 *             cookie, and send the browser to the source with that key;
 *   hand-off  once the source's answer is verified and the user upserted: a one-time code and a
 *             303 to a top-level GET on our origin, which carries our SameSite=Lax cookies;
 *   finish    that GET checks the browser is the one that started (login CSRF) and starts the
 *             web session, or finishes the OIDC login interaction.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { Forbidden, InvalidRequest } from '../errors.js';
import type { Services } from '../services.js';
import type { SignInHandoff } from '../identity/redirect-sign-ins.js';
import type { Identity, RedirectSource } from '../identity/source.js';
import type { OpenIdProvider } from '../oauth/provider.js';
import type { UserRecord } from '../store/records.js';
import { safeReturnPath } from './return-path.js';
import { startWebSession } from './browser-session.js';

/** The name predates other redirect kinds; kept so a sign-in in flight during an upgrade finishes. */
export const BROWSER_COOKIE = 'tessera_saml_browser';
export const DEFAULT_RETURN = '/manage_tokens';

function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** The random value binding a sign-in to the browser that started it (kept 10 minutes). */
export function browserBinding(ctx: Context): string {
  const value = ctx.cookies.get(BROWSER_COOKIE);
  const binding = value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : randomBytes(32).toString('base64url');
  ctx.cookies.set(BROWSER_COOKIE, binding, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', maxAge: 10 * 60_000, overwrite: true });
  return binding;
}

/** Start: `?interaction=<uid>` (OIDC login) or `?return=/path` (web), stored, then off to the source. */
export async function startRedirectSignIn(ctx: Context, services: Services, oidc: OpenIdProvider, source: RedirectSource): Promise<void> {
  const { interaction, return: requested } = ctx.query;
  let target: { interaction: string } | { returnTo: string };
  if (typeof interaction === 'string') {
    // The interaction's cookie is not sent here (its path is /interaction/<uid>); it is
    // checked where the sign-in finishes. Here: only that the interaction exists.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(interaction) || !(await oidc.current.Interaction.find(interaction))) {
      throw new InvalidRequest('this sign-in request has expired: go back to the application and start again');
    }
    target = { interaction };
  } else {
    const returnTo = requested === undefined ? DEFAULT_RETURN : safeReturnPath(requested);
    if (!returnTo) throw new InvalidRequest('return must be a path on this site, such as /manage_tokens');
    target = { returnTo };
  }
  const browser = browserBinding(ctx);
  const key = services.signIns.newRelayState();
  const { url, requestId } = await source.signInRedirect(key);
  await services.signIns.begin(key, { source: source.id, requestId, browser, ...target });
  ctx.set('Cache-Control', 'no-store');
  ctx.redirect(url);
  ctx.status = 303;
}

/** The Tessera user for a verified identity, refused when it belongs to another source or is disabled. */
export async function signedInUser(services: Services, identity: Identity): Promise<UserRecord> {
  let user: UserRecord;
  try {
    user = await services.users.upsertExternal(identity);
  } catch (err) {
    if (err instanceof InvalidRequest) throw new Forbidden(`the Tessera user ${identity.username} belongs to another source`);
    throw err;
  }
  if (!user.enabled) throw new Forbidden('this account is disabled in Tessera');
  return user;
}

/** Hand-off: a one-time code, and a 303 to `finishPath` (which must be on our origin). */
export async function handOffTo(ctx: Context, services: Services, handoff: SignInHandoff, finishPath: string): Promise<void> {
  const code = await services.signIns.handOff(handoff);
  ctx.set('Cache-Control', 'no-store');
  ctx.redirect(`${finishPath}?code=${code}`);
  ctx.status = 303;
}

/** The hand-off a `?code=` names, once, if this browser may use it. */
export async function takeHandoff(ctx: Context, services: Services, source: RedirectSource): Promise<{ handoff: SignInHandoff; user: UserRecord }> {
  const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
  const handoff = await services.signIns.takeHandoff(code);
  if (!handoff || handoff.source !== source.id) throw new Forbidden('this sign-in link has expired or was already used: sign in again');
  if (handoff.browser !== null && !sameSecret(ctx.cookies.get(BROWSER_COOKIE), handoff.browser)) {
    throw new Forbidden('this sign-in was started in another browser: sign in again here');
  }
  const user = await services.store.getUser(handoff.userId);
  if (!user?.enabled) throw new Forbidden('this account is disabled in Tessera');
  return { handoff, user };
}

/** Finish, web: the session starts and the browser lands where it asked to. */
export async function finishWebSignIn(ctx: Context, services: Services, source: RedirectSource): Promise<void> {
  const { handoff, user } = await takeHandoff(ctx, services, source);
  if (handoff.interaction) throw new Forbidden('this sign-in belongs to an application login');
  await startWebSession(ctx, services, user);
  ctx.set('Cache-Control', 'no-store');
  ctx.redirect(handoff.returnTo ?? DEFAULT_RETURN);
  ctx.status = 303;
}

/** Finish, OIDC login: under /interaction/<uid>/, the only path the interaction's cookie is sent to. */
export async function finishInteractionSignIn(ctx: Context, services: Services, oidc: OpenIdProvider, source: RedirectSource): Promise<void> {
  const { handoff, user } = await takeHandoff(ctx, services, source);
  const provider = oidc.current;
  // Throws without this browser's `_interaction` cookie: only the browser that started the
  // application's login can finish it.
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (handoff.interaction !== ctx.params.uid || details.uid !== ctx.params.uid) throw new Forbidden('this sign-in belongs to another application login');
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
}
