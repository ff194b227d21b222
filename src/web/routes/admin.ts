/**
 * The admin area (/admin/...): signed-in administrators only; anyone else signed in gets a 403
 * page, whatever the address, so the area's layout cannot be probed.
 */
import Router from '@koa/router';
import type { Services } from '../../services.js';
import { tokenAdminRoutes } from './admin-tokens.js';
import { auditAdminRoutes } from './audit.js';
import { webhookAdminRoutes } from './admin-webhooks.js';
import { userAdminRoutes } from './admin-users.js';
import { errorsAsPages, notFoundPage } from '../../http/errors.js';
import { adminOnly, signedIn } from './guards.js';

export function adminPages(services: Services): Router {
  const router = new Router();
  router.use(errorsAsPages('pages'), signedIn(services), adminOnly);
  userAdminRoutes(router, services);
  tokenAdminRoutes(router, services);
  auditAdminRoutes(router, services);
  webhookAdminRoutes(router, services);
  router.all('/admin/{*rest}', notFoundPage);
  return router;
}
