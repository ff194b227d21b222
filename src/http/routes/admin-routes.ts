/**
 * Gateway administration that is not about users or tokens: signing-key rotation.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

export function adminRoutes(services: Services, oidc: OpenIdProvider): Router {
  const router = new Router({ prefix: '/api/v1/admin' });
  router.use(requirePrincipal(services), requireAdmin);

  // Two-phase: the new keys are published by every instance at once (pub/sub) and sign only
  // after config oidc.keyActivationDelay; old keys stay published until oidc.keyRetirement passes.
  router.post('/keys/rotate', async (ctx) => {
    const result = await services.audit.around({ type: 'keys.rotated' }, () => services.keys.rotate(), (r) => ({ details: { ...r } }));
    await oidc.reloadIfChanged();
    ctx.body = { signing_kid: result.kid, activates_at: new Date(result.activatesAt).toISOString(), retiring: result.retiring };
  });
  return router;
}
