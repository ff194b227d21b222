/**
 * Everything the web layer mounts on the app, in order: the OIDC login interaction, the redirect
 * sign-in endpoints, the pages, the static files, and the frame error pages are shown in. The
 * composition root (server.ts) hands it to `createApp`, so the HTTP layer never imports pages.
 */
import type { Services } from '../gateway.js';
import type Router from '@koa/router';
import type { OpenIdProvider } from '../oauth/provider.js';
import { interactionRoutes } from './interactions.js';
import { accountPages } from './pages/account.js';
import { adminPages } from './pages/admin.js';
import { signInPages } from './pages/sign-in.js';
import { tokenPages } from './pages/tokens.js';
import { redirectRoutes } from './redirect-routes.js';
import { samlRoutes } from './saml-routes.js';
import { staticRoutes } from './static.js';
import { apiReferencePages } from './pages/api-reference.js';
import { renderErrorPage } from './views/error-page.js';

/** Matches `PageArea` in http/app.ts by shape: the pages do not import the app that mounts them. */
export function pageArea(services: Services, oidc: OpenIdProvider): { routers: Router[]; renderErrorPage: typeof renderErrorPage; apiReference: typeof apiReferencePages } {
  return {
    routers: [
      interactionRoutes(services, oidc),
      samlRoutes(services, oidc),
      redirectRoutes(services, oidc),
      signInPages(services),
      tokenPages(services),
      adminPages(services),
      accountPages(services),
      staticRoutes(),
    ],
    renderErrorPage,
    apiReference: apiReferencePages,
  };
}
