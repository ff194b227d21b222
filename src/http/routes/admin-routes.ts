/**
 * Gateway administration that is not about users or tokens: signing-key rotation.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import { rotateSigningKey } from '../../oauth/keys.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

export function adminRoutes(services: Services, oidc: OpenIdProvider): Router {
  const router = new Router({ prefix: '/api/v1/admin' });
  router.use(requirePrincipal(services), requireAdmin);

  // A new key signs from now on; old keys stay in JWKS until config oidc.keyRetirement passes.
  // Other gateway instances pick the change up within 30 s.
  router.post('/keys/rotate', async (ctx) => {
    const rotate = () => rotateSigningKey(services.store, services.config.oidc.keyRetirement);
    const result = await services.audit.around({ type: 'keys.rotated' }, rotate, (r) => ({ details: { kid: r.kid, retiring: r.retiring } }));
    await oidc.reloadIfChanged();
    ctx.body = { signing_kid: result.kid, retiring: result.retiring };
  });
  return router;
}
