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
import Router from '@koa/router';
import type { Context } from 'koa';
import { Forbidden, NotFound } from '../../errors.js';
import type { Services } from '../../services.js';
import { errorsAsPages } from '../../http/errors.js';
import { readForm, stringField } from '../../http/body.js';
import { RedirectSignIns } from '../../identity/redirect-sign-ins.js';
import { RedirectRateLimit } from '../../identity/redirect-rate-limit.js';
import type { SamlSource } from '../../identity/saml/saml-source.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { DEFAULT_RETURN, finishInteractionSignIn, finishWebSignIn, handOffTo, signedInUser, startRedirectSignIn } from '../redirect-sign-in.js';
import { safeReturnPath } from '../return-path.js';
import { auditSamlRejections } from '../saml-audit.js';

export function samlRoutes(services: Services, oidc: OpenIdProvider): Router {
  const { samlSources, signIns, store, config, clock } = services;
  const rateLimit = new RedirectRateLimit(store, clock, config);
  const router = new Router();
  router.use(errorsAsPages('sign-in'));

  const sourceOf = (ctx: Context): SamlSource => {
    const source = samlSources.find((s) => s.id === ctx.params.id);
    if (!source) throw new NotFound('no such SAML source');
    return source;
  };

  router.get('/saml/:id/metadata', (ctx) => {
    const source = sourceOf(ctx);
    ctx.type = 'application/samlmetadata+xml';
    ctx.set('Content-Disposition', `attachment; filename="tessera-${source.id}-sp-metadata.xml"`);
    ctx.body = source.metadataXml();
  });

  router.get('/saml/:id/login', async (ctx) => {
    const source = sourceOf(ctx);
    await rateLimit.hit(source.id, 'start', ctx.ip);
    await startRedirectSignIn(ctx, services, oidc, source);
  });

  router.post('/saml/:id/acs', auditSamlRejections(services), async (ctx) => {
    const source = sourceOf(ctx);
    await rateLimit.hit(source.id, 'answer', ctx.ip);
    const form = await readForm(ctx, config.server.bodyLimitBytes);
    const relayState = stringField(form, 'RelayState');
    // A RelayState of ours names a pending sign-in, which this POST uses up, accepted or not.
    // Any other (an IdP's "default RelayState", a path) makes the response unsolicited.
    const pending = relayState ? await signIns.take(relayState) : null;
    if (pending === 'answered') throw new Forbidden('this sign-in request has already been answered: sign in again');
    if (pending && pending.source !== source.id) throw new Forbidden('the RelayState does not belong to this source');
    if (relayState && RedirectSignIns.isOurs(relayState) && !pending && !source.allowIdpInitiated) {
      throw new Forbidden('this sign-in request is unknown or has expired (10 minutes): sign in again');
    }
    const identity = await source.verifyResponse(form, pending?.requestId ?? null);
    const user = await signedInUser(services, identity);

    await services.audit.record({ type: 'saml.signed_in', actor: { credential: 'saml', userId: user.id, username: user.username }, target: { userId: user.id, username: user.username }, source: source.id });
    const next = pending?.interaction ? `/interaction/${pending.interaction}/saml/${source.id}` : `/saml/${source.id}/complete`;
    await handOffTo(ctx, services, {
      source: source.id,
      userId: user.id,
      browser: pending?.browser ?? null,
      // Unsolicited: Okta's "Default RelayState" may name the page to land on.
      returnTo: pending ? pending.returnTo : (safeReturnPath(relayState) ?? DEFAULT_RETURN),
      interaction: pending?.interaction,
    }, next);
  });

  router.get('/saml/:id/complete', (ctx) => finishWebSignIn(ctx, services, sourceOf(ctx)));
  router.get('/interaction/:uid/saml/:id', (ctx) => finishInteractionSignIn(ctx, services, oidc, sourceOf(ctx)));

  return router;
}
