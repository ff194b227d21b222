/**
 * Gateway administration that is not about users or tokens: signing-key rotation.
 */
import { z } from 'zod';
import type { Services } from '../../services.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

export function adminRoutes(services: Services, oidc: OpenIdProvider): ApiRouter {
  const router = new ApiRouter({ prefix: '/api/v1/admin', bodyLimit: services.config.server.bodyLimitBytes });

  // Two-phase: the new keys are published by every instance at once (pub/sub) and sign only
  // after config oidc.keyActivationDelay; old keys stay published until oidc.keyRetirement passes.
  router.define(
    {
      method: 'post', path: '/keys/rotate', tag: 'Administration', auth: 'admin',
      summary: 'Rotate the OpenID Provider\'s signing keys',
      description: 'The new key is published at once and signs after oidc.keyActivationDelay; the old one stays published until oidc.keyRetirement.',
      responses: { 200: { description: 'the new key', schema: z.object({ signing_kid: z.string(), activates_at: z.string(), retiring: z.array(z.string()) }) } },
    },
    [requirePrincipal(services), requireAdmin],
    async (ctx) => {
      const result = await services.audit.around({ type: 'keys.rotated' }, () => services.keys.rotate(), (r) => ({ details: { ...r } }));
      await oidc.reloadIfChanged();
      ctx.body = { signing_kid: result.kid, activates_at: new Date(result.activatesAt).toISOString(), retiring: result.retiring };
    },
  );
  return router;
}
