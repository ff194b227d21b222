/**
 * `POST /api/v1/tokens/{id}/rotate`: a new secret for a token, same name, description, scopes
 * and expiry policy. The old secret stops working at once or, with `{"grace": "1h"}` (a
 * duration, at most `tokens.rotationGraceMax`), at the end of that grace period; the answer's
 * `old_token_expires_at` says when. The rules are `PatService.rotate`'s.
 */
import { z } from 'zod';
import type { Services } from '../../services.js';
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
      summary: 'Rotate a personal access token: a new secret; the old one stops at once or after a grace period',
      description: 'Same name, description, scopes and expiry policy; the lifetime counts from now. With `grace` (a duration such as "1h", at most tokens.rotationGraceMax) the old secret keeps working until then; `old_token_expires_at` says when it stops.',
      request: {
        params: z.object({ id: z.string() }),
        body: z.object({ grace: z.union([z.string(), z.number()]).nullish().describe('how long the old secret keeps working: seconds or a duration such as "1h" (default: it stops at once)') }),
      },
      responses: { 201: { description: 'the token, with its new secret', schema: CreatedToken.extend({ old_token_expires_at: z.string().describe('when the old secret stops (ISO 8601)') }) } },
    },
    [requirePrincipal(services)],
    async (ctx, { params, body }) => {
      const rotated = await pats.rotate(ctx.state.principal as Principal, params.id, body.grace ?? undefined);
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
    },
  );
  return router;
}
