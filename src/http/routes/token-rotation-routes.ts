/**
 * `POST /api/v1/tokens/{id}/rotate`: a new secret for a token, same name, description, scopes
 * and expiry policy; the old secret stops working at once. The rules are `PatService.rotate`'s.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import type { Principal } from '../../tokens/principal.js';
import { requirePrincipal } from '../authenticate.js';
import { presentToken } from '../presenters.js';

export function tokenRotationRoutes(services: Services): Router {
  const { pats, clock } = services;
  const router = new Router({ prefix: '/api/v1' });
  router.post('/tokens/:id/rotate', requirePrincipal(services), async (ctx) => {
    const rotated = await pats.rotate(ctx.state.principal as Principal, ctx.params.id!);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      ...presentToken(rotated.record, rotated.owner, clock()),
      token: rotated.secret,
      evicted: rotated.evicted,
      warning: 'Store this token now: it is shown only once. The old secret no longer works.',
    };
  });
  return router;
}
