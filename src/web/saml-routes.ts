/**
 * The SAML endpoints of each source (`/saml/<id>/...`), read top to bottom as a sign-in goes:
 *
 *   GET  metadata   this gateway's SP metadata, for the IdP's administrator
 *   GET  login      ?return=/path (web sign-in) or ?interaction=<uid> (OIDC login): stores the
 *                   request, redirects to the IdP with RelayState naming it
 *   POST acs        the IdP's answer. It arrives cross-site, so without our SameSite=Lax cookies
 *                   (the browser's binding, the OIDC `_interaction`): it verifies the assertion
 *                   and upserts the user, then hands off under a one-time code with a 303 to
 *   GET  complete   (web) or GET /interaction/<uid>/saml/<id> (OIDC; under the interaction's
 *                   path, the only one its cookie is sent to): a top-level GET back to our
 *                   origin, which carries the Lax cookies. The browser must be the one that
 *                   started the sign-in (login CSRF), then the session starts or the
 *                   interaction finishes.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { Forbidden, InvalidRequest, NotFound, TesseraError } from '../errors.js';
import type { Services } from '../gateway.js';
import { readForm, stringField } from '../http/body.js';
import { SamlRateLimit } from '../identity/saml/rate-limit.js';
import type { SamlSource } from '../identity/saml/saml-source.js';
import { SamlSignIns, type SignInHandoff } from '../identity/saml/sign-ins.js';
import type { OpenIdProvider } from '../oauth/provider.js';
import type { UserRecord } from '../store/records.js';
import { html } from './html.js';
import { renderPage } from './layout.js';
import { safeReturnPath } from './return-path.js';
import { startWebSession } from './session.js';
import { auditSamlRejections } from './saml-audit.js';

const BROWSER_COOKIE = 'tessera_saml_browser';
const DEFAULT_RETURN = '/manage_tokens';

/** People see these endpoints: a refusal is a page saying why, not JSON. */
async function signInErrorPage(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    const status = (err as { status?: number }).status ?? 500;
    if (status >= 500 && status !== 503) throw err;
    // Errors of ours say which rule failed, or for a 503 what is unavailable (the IdP, the
    // response workers), with no detail; oidc-provider's (no `_interaction` cookie, an expired
    // interaction) mean the login is not this browser's or is over.
    const message =
      err instanceof TesseraError
        ? err.message
        : status === 503
          ? 'The identity provider cannot be reached right now. Try again in a minute.'
          : 'This application login has expired or was started in another browser: go back to the application and start again.';
    if (err instanceof TesseraError) ctx.set(err.headers);
    renderPage(ctx, {
      title: 'Sign-in failed',
      status,
      body: html`<section class="card narrow"><h1>Sign-in failed</h1>
<p class="error" role="alert" id="sign-in-error">${message}</p>
<p><a href="/">Start again</a></p></section>`,
    });
  }
}

function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

export function samlRoutes(services: Services, oidc: OpenIdProvider): Router {
  const { samlSources, samlSignIns: signIns, users, store, config, clock } = services;
  const rateLimit = new SamlRateLimit(store, clock, config.samlLimits.perIpPerMinute);
  const router = new Router();
  router.use(signInErrorPage);

  const sourceOf = (ctx: Context): SamlSource => {
    const source = samlSources.find((s) => s.id === ctx.params.id);
    if (!source) throw new NotFound('no such SAML source');
    return source;
  };

  /** The random value binding a sign-in to the browser that started it (kept 10 minutes). */
  const browserBinding = (ctx: Context): string => {
    const value = ctx.cookies.get(BROWSER_COOKIE);
    const binding = value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : randomBytes(32).toString('base64url');
    ctx.cookies.set(BROWSER_COOKIE, binding, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', maxAge: 10 * 60_000, overwrite: true });
    return binding;
  };

  /** The hand-off a `?code=` names, once, if this browser may use it. */
  const takeHandoff = async (ctx: Context, source: SamlSource): Promise<{ handoff: SignInHandoff; user: UserRecord }> => {
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    const handoff = await signIns.takeHandoff(code);
    if (!handoff || handoff.source !== source.id) throw new Forbidden('this sign-in link has expired or was already used: sign in again');
    if (handoff.browser !== null && !sameSecret(ctx.cookies.get(BROWSER_COOKIE), handoff.browser)) {
      throw new Forbidden('this sign-in was started in another browser: sign in again here');
    }
    const user = await store.getUser(handoff.userId);
    if (!user?.enabled) throw new Forbidden('this account is disabled in Tessera');
    return { handoff, user };
  };

  router.get('/saml/:id/metadata', (ctx) => {
    const source = sourceOf(ctx);
    ctx.type = 'application/samlmetadata+xml';
    ctx.set('Content-Disposition', `attachment; filename="tessera-${source.id}-sp-metadata.xml"`);
    ctx.body = source.metadataXml();
  });

  router.get('/saml/:id/login', async (ctx) => {
    const source = sourceOf(ctx);
    await rateLimit.hit('login', ctx.ip);
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
    const relayState = signIns.newRelayState();
    const { url, requestId } = await source.signInRedirect(relayState);
    await signIns.begin(relayState, { source: source.id, requestId, browser, ...target });
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url);
    ctx.status = 303;
  });

  router.post('/saml/:id/acs', auditSamlRejections(services), async (ctx) => {
    const source = sourceOf(ctx);
    await rateLimit.hit('acs', ctx.ip);
    const form = await readForm(ctx, config.server.bodyLimitBytes);
    const relayState = stringField(form, 'RelayState');
    // A RelayState of ours names a pending sign-in, which this POST uses up, accepted or not.
    // Any other (an IdP's "default RelayState", a path) makes the response unsolicited.
    const pending = relayState ? await signIns.take(relayState) : null;
    if (pending === 'answered') throw new Forbidden('this sign-in request has already been answered: sign in again');
    if (pending && pending.source !== source.id) throw new Forbidden('the RelayState does not belong to this source');
    if (relayState && SamlSignIns.isOurs(relayState) && !pending && !source.allowIdpInitiated) {
      throw new Forbidden('this sign-in request is unknown or has expired (10 minutes): sign in again');
    }
    const identity = await source.verifyResponse(form, pending?.requestId ?? null);

    let user: UserRecord;
    try {
      user = await users.upsertExternal(identity);
    } catch (err) {
      if (err instanceof InvalidRequest) throw new Forbidden(`the Tessera user ${identity.username} belongs to another source`);
      throw err;
    }
    if (!user.enabled) throw new Forbidden('this account is disabled in Tessera');

    await services.audit.record({ type: 'saml.signed_in', actor: { credential: 'saml', userId: user.id, username: user.username }, target: { userId: user.id, username: user.username }, source: source.id });
    const code = await signIns.handOff({
      source: source.id,
      userId: user.id,
      browser: pending?.browser ?? null,
      // Unsolicited: Okta's "Default RelayState" may name the page to land on.
      returnTo: pending ? pending.returnTo : (safeReturnPath(relayState) ?? DEFAULT_RETURN),
      interaction: pending?.interaction,
    });
    const next = pending?.interaction ? `/interaction/${pending.interaction}/saml/${source.id}` : `/saml/${source.id}/complete`;
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(`${next}?code=${code}`);
    ctx.status = 303;
  });

  router.get('/saml/:id/complete', async (ctx) => {
    const { handoff, user } = await takeHandoff(ctx, sourceOf(ctx));
    if (handoff.interaction) throw new Forbidden('this sign-in belongs to an application login');
    await startWebSession(ctx, services, user);
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(handoff.returnTo ?? DEFAULT_RETURN);
    ctx.status = 303;
  });

  router.get('/interaction/:uid/saml/:id', async (ctx) => {
    const { handoff, user } = await takeHandoff(ctx, sourceOf(ctx));
    const provider = oidc.current;
    // Throws without this browser's `_interaction` cookie: only the browser that started the
    // application's login can finish it.
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (handoff.interaction !== ctx.params.uid || details.uid !== ctx.params.uid) throw new Forbidden('this sign-in belongs to another application login');
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
    ctx.respond = false;
  });

  return router;
}
