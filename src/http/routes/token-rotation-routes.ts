/**
 * `POST /api/v1/tokens/{id}/rotate`: a new secret for a token, same name, description, scopes
 * and expiry policy. The old secret stops working at once or, with `{"grace": "1h"}` (a
 * duration, at most `tokens.rotationGraceMax`), at the end of that grace period; the answer's
 * `old_token_expires_at` says when. The rules are `PatService.rotate`'s.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import type { Principal } from '../../tokens/principal.js';
import { requirePrincipal } from '../authenticate.js';
import { readJson } from '../body.js';
import { presentToken } from '../presenters.js';

export function tokenRotationRoutes(services: Services): Router {
  const { pats, clock, config } = services;
  const router = new Router({ prefix: '/api/v1' });
  router.post('/tokens/:id/rotate', requirePrincipal(services), async (ctx) => {
    const body = await readJson(ctx, config.server.bodyLimitBytes);
    const rotated = await pats.rotate(ctx.state.principal as Principal, ctx.params.id!, body.grace);
    const now = clock();
    const graceLeft = rotated.replacedEndsAt > now;
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      ...presentToken(rotated.record, rotated.owner, now),
      token: rotated.secret,
      evicted: rotated.evicted,
      old_token_expires_at: new Date(rotated.replacedEndsAt).toISOString(),
      warning: `Store this token now: it is shown only once. ${graceLeft ? `The old secret works until ${new Date(rotated.replacedEndsAt).toISOString()}, then stops.` : 'The old secret no longer works.'}`,
    };
  });
  return router;
}
