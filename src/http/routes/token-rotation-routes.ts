/**
 * `POST /api/v1/tokens/{id}/rotate`: a new secret for a token, same name, description, scopes
 * and expiry policy; the old secret stops working at once. The rules are `PatService.rotate`'s.
 */
import { z } from 'zod';
import type { Services } from '../../gateway.js';
import type { Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { requirePrincipal } from '../authenticate.js';
import { presentToken } from '../presenters.js';
import { CreatedToken } from '../wire-schemas.js';

export function tokenRotationRoutes(services: Services): ApiRouter {
  const { pats, clock } = services;
  const router = new ApiRouter({ prefix: '/api/v1', bodyLimit: services.config.server.bodyLimitBytes });
  router.define(
    {
      method: 'post', path: '/tokens/{id}/rotate', tag: 'Personal access tokens', auth: 'bearer',
      summary: 'Rotate a personal access token: a new secret, the old one stops working',
      description: 'Same name, description, scopes and expiry policy; the lifetime counts from now.',
      request: { params: z.object({ id: z.string() }) },
      responses: { 201: { description: 'the token, with its new secret', schema: CreatedToken } },
    },
    [requirePrincipal(services)],
    async (ctx, { params }) => {
      const rotated = await pats.rotate(ctx.state.principal as Principal, params.id);
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        ...presentToken(rotated.record, rotated.owner, clock()),
        token: rotated.secret,
        evicted: rotated.evicted,
        warning: 'Store this token now: it is shown only once. The old secret no longer works.',
      };
    },
  );
  return router;
}
