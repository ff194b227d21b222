/**
 * The Koa application: the two hot routes on their own short stack first (hot-routes.ts); then,
 * for everything else, the request context, the request observer (access line and metrics, once
 * the response is done, whatever answered it), the shutdown drain, the error mapper (it wraps
 * everything below it), each area's router (the API's, then the pages' that the composition root
 * hands in), and oidc-provider for the protocol paths it owns. Unknown routes end in a 404 error.
 * Nothing here imports the web layer: pages and their error frame arrive as `PageArea`.
 */
import Koa from 'koa';
import type Router from '@koa/router';
import type { Services } from '../services.js';
import { isProviderPath, type OpenIdProvider } from '../oauth/provider.js';
import { readProviderForm } from './body.js';
import { respondToErrors, type ErrorPageRenderer } from './errors.js';
import { hotRoutes } from './hot-routes.js';
import { requestContext } from './request-context.js';
import { adminRoutes } from './routes/admin-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { forwardAuthRoutes } from './routes/forward-auth.js';
import { healthRoutes } from './routes/health.js';
import { oauthRoutes } from './routes/oauth-routes.js';
import { sessionRoutes } from './routes/login-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { scopeRoutes } from './routes/scope-routes.js';
import { loginSessionRoutes } from './routes/login-session-routes.js';
import { tokenRotationRoutes } from './routes/token-rotation-routes.js';
import { tokenExchangeEndpoint } from './routes/token-exchange.js';
import { leakReportRoutes } from './routes/leak-report-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { ssfRoutes } from './routes/ssf-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { Drain } from '../observability/drain.js';
import { observeRequests, routeOf } from '../observability/http-observer.js';
import { flatLineRedaction } from '../observability/logger.js';
import { metricsRoutes } from '../observability/metrics-routes.js';
import { corsPolicy } from './cors.js';
import { ApiRouter, type Operation } from './api-router.js';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.js';
import { openApiRoutes } from './routes/openapi-routes.js';
import { tokenExchangeOperation } from './routes/token-exchange.js';
import { packageVersion } from '../version.js';

function securityHeaders(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  return next();
}

/** What the web layer mounts: its routers, after the API's, and the frame of error pages. */
export interface PageArea {
  routers: Router[];
  renderErrorPage: ErrorPageRenderer;
  /** `/docs/api`: the reference page for people, rendered from the OpenAPI document. */
  apiReference(document: () => OpenApiDocument): Router;
}

export function createApp(services: Services, oidc: OpenIdProvider, pages: PageArea, drain = new Drain()): Koa {
  const { trustProxy, proxyHops } = services.config.server;
  // maxIpsCount: only the entries our own proxies appended count; the client writes the rest.
  const app = new Koa({ proxy: trustProxy, maxIpsCount: proxyHops });
  // Koa prints every error itself unless told not to; respondToErrors decides what is logged.
  app.silent = true;
  const logger = services.logger.child({ component: 'http' });
  // The failure only, never the request: bodies and headers may carry secrets.
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    logger.error({ err, method: ctx?.method, route: ctx ? routeOf(ctx) : undefined }, 'request failed');
  });
  // What every route passes, the hot ones included.
  const common = [
    observeRequests(services.metrics, logger.child({}, flatLineRedaction)),
    drain.middleware(),
    respondToErrors(pages.renderErrorPage),
    securityHeaders,
  ];
  const cors = corsPolicy(services.config.server.cors.origins);
  // Introspection and forward auth first, on their own short stack (see hot-routes.ts).
  app.use(hotRoutes(services, oidc, { common, cors }));
  app.use(requestContext);
  for (const layer of common) app.use(layer);
  app.use(cors);
  // RFC 8693 workload token exchange; every other grant at /oauth2/token goes on to the provider.
  app.use(tokenExchangeEndpoint(services, oidc, services.workload));
  // The OpenAPI document describes every ApiRouter's operations (and the token exchange, which
  // is middleware above); built on first request, when every router below has registered.
  let document: OpenApiDocument | undefined;
  const openApi = () => (document ??= buildOpenApiDocument(operations, { version: packageVersion(), issuer: services.config.server.issuer! }));
  // The routers still answer the hot paths' other methods and spellings (`/auth/verify/`).
  const routers = [
    oauthRoutes(services, oidc),
    forwardAuthRoutes(services),
    healthRoutes(services),
    metricsRoutes(services.metrics, services.config.metrics.token),
    sessionRoutes(services),
    userRoutes(services),
    tokenRoutes(services),
    scopeRoutes(services),
    loginSessionRoutes(services),
    tokenRotationRoutes(services),
    adminRoutes(services, oidc),
    auditRoutes(services),
    leakReportRoutes(services, services.leaks),
    ssfRoutes(services, oidc),
    webhookRoutes(services),
    ...pages.routers,
    openApiRoutes(openApi, services.config.server.bodyLimitBytes),
    pages.apiReference(openApi),
  ];
  const operations: Operation[] = [tokenExchangeOperation, ...routers.flatMap((router) => (router instanceof ApiRouter ? router.operations : []))];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  app.use(async function openIdProvider(ctx, next) {
    if (isProviderPath(ctx.path)) return oidc.handle(ctx, await readProviderForm(ctx, services.config.server.bodyLimitBytes));
    await next();
  });
  return app;
}
