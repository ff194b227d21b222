/**
 * Reading the audit trail: `GET /api/v1/audit` (administrators: every event, with filters) and
 * `GET /api/v1/me/events` (a user's own security log: what they did and what was done to their
 * account or tokens). Both answer `{"events": [...], "next": <cursor or null>}`, newest first.
 */
import Router from '@koa/router';
import { auditPageRequest } from '../../audit/query-params.js';
import { readAuditPage } from '../../audit/query.js';
import { InsufficientScope } from '../../errors.js';
import type { Services } from '../../gateway.js';
import type { Principal } from '../../tokens/principal.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

export function auditRoutes(services: Services): Router {
  const { store, clock } = services;
  const router = new Router({ prefix: '/api/v1' });
  const auth = requirePrincipal(services);

  router.get('/audit', auth, requireAdmin, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await readAuditPage(store, auditPageRequest(ctx.query, clock()));
  });

  // The caller's own log: the filter is forced to events involving them, whatever was asked.
  // A scoped token (a CI job's) has no business reading where its owner signs in from.
  router.get('/me/events', auth, async (ctx) => {
    const principal = ctx.state.principal as Principal;
    if (principal.scopes !== null) throw new InsufficientScope('the security log needs an unscoped credential');
    const request = auditPageRequest(ctx.query, clock());
    request.filter.involving = principal.user.id;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await readAuditPage(store, request);
  });

  return router;
}
