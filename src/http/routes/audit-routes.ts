/**
 * Reading the audit trail: `GET /api/v1/audit` (administrators: every event, with filters) and
 * `GET /api/v1/me/events` (a user's own security log: what they did and what was done to their
 * account or tokens). Both answer `{"events": [...], "next": <cursor or null>}`, newest first.
 * The filters' meaning (durations, cursors, outcomes) is `auditPageRequest`'s to check, shared with
 * the admin page; the schema below says what is sent.
 */
import { z } from 'zod';
import { auditPageRequest } from '../../audit/query-params.js';
import { MAX_PAGE, readAuditPage } from '../../audit/query.js';
import { InsufficientScope } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';

const one = z.string({ error: (issue) => (Array.isArray(issue.input) ? 'may be given once' : undefined) }).max(200, { error: 'is too long' });
const instant = one.describe('ISO 8601, or a duration back from now such as 24h or 7d');

const AuditQuery = z.object({
  limit: one.optional().describe(`events per page, 1 to ${MAX_PAGE} (default 50)`),
  before: one.optional().describe('the previous page\'s next: older events'),
  after: one.optional().describe('newer events than this cursor'),
  since: instant.optional(),
  until: instant.optional(),
  type: one.optional().describe('an event type, e.g. token.created'),
  outcome: z.enum(['succeeded', 'failed', 'attempted']).optional(),
  actor: one.optional().describe('who acted (username or client id)'),
  user: one.optional().describe('the user acted on'),
  token: one.optional().describe('a token id'),
});

const AuditPage = z
  .object({
    events: z.array(z.looseObject({ id: z.string(), time: z.string(), type: z.string(), outcome: z.enum(['succeeded', 'failed', 'attempted']) })),
    next: z.string().nullable().describe('pass as before for the next (older) page; null at the end'),
  })
  .meta({ id: 'AuditPage' });

export function auditRoutes(services: Services): ApiRouter {
  const { store, clock } = services;
  const router = new ApiRouter({ prefix: '/api/v1', bodyLimit: services.config.server.bodyLimitBytes });
  const auth = requirePrincipal(services);
  const tag = 'Audit';

  router.define(
    { method: 'get', path: '/audit', tag, auth: 'admin', summary: 'Read the audit trail, newest first', request: { query: AuditQuery }, responses: { 200: { description: 'a page of events', schema: AuditPage } } },
    [auth, requireAdmin],
    async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await readAuditPage(store, auditPageRequest(ctx.query, clock()));
    },
  );

  // The caller's own log: the filter is forced to events involving them, whatever was asked.
  // A scoped token (a CI job's) has no business reading where its owner signs in from.
  router.define(
    {
      method: 'get', path: '/me/events', tag, auth: 'bearer',
      summary: 'The caller\'s own security log',
      description: 'Events the caller did and events done to their account or tokens. Needs an unscoped credential.',
      request: { query: AuditQuery },
      responses: { 200: { description: 'a page of events', schema: AuditPage } },
    },
    [auth],
    async (ctx) => {
      const principal = ctx.state.principal as Principal;
      if (principal.scopes !== null) throw new InsufficientScope('the security log needs an unscoped credential');
      const request = auditPageRequest(ctx.query, clock());
      request.filter.involving = principal.user.id;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await readAuditPage(store, request);
    },
  );

  return router;
}
