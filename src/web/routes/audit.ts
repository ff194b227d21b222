/**
 * /admin/audit: the audit trail for administrators, with the same filters as
 * `GET /api/v1/audit` (the form submits them as query parameters) and an "Older events" link.
 */
import type Router from '@koa/router';
import { auditPageRequest } from '../../audit/query-params.js';
import { readAuditPage } from '../../audit/query.js';
import { TesseraError } from '../../errors.js';
import type { Services } from '../../services.js';
import { auditPage, type AuditFilterValues } from '../views/audit-events.js';
import { sentence } from '../../http/errors.js';
import { showPage } from '../views/page.js';

export function auditAdminRoutes(router: Router, services: Services): void {
  router.get('/admin/audit', async (ctx) => {
    const text = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : undefined);
    const filters: AuditFilterValues = { type: text('type'), actor: text('actor'), user: text('user'), token: text('token'), since: text('since'), until: text('until') };
    try {
      const page = await readAuditPage(services.store, auditPageRequest(ctx.query, services.clock()));
      showPage(ctx, { title: 'Audit trail', body: auditPage({ ...page, filters }) });
    } catch (err) {
      if (!(err instanceof TesseraError) || err.status !== 400) throw err;
      showPage(ctx, { title: 'Audit trail', status: 400, body: auditPage({ events: [], next: null, filters, error: sentence(err.message) }) });
    }
  });
}
