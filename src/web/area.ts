/**
 * Everything the web layer mounts on the app, in order: the OIDC login interaction, the redirect
 * sign-in endpoints, the pages, the static files, and the frame error pages are shown in. The
 * composition root (server.ts) hands it to `createApp`, so the HTTP layer never imports pages.
 */
import type { Services } from '../services.js';
import type Router from '@koa/router';
import type { OpenIdProvider } from '../oauth/provider.js';
import { interactionRoutes } from './routes/interaction.js';
import { accountPages } from './routes/account.js';
import { adminPages } from './routes/admin.js';
import { signInPages } from './routes/sign-in.js';
import { tokenPages } from './routes/tokens.js';
import { redirectRoutes } from './routes/sso.js';
import { samlRoutes } from './routes/saml.js';
import { staticRoutes } from './static.js';
import { apiReferencePages } from './routes/api-reference.js';
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
