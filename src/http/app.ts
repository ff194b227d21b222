/**
 * The Koa application: the request observer first (access line and metrics, once the response
 * is done, whatever answered it), then the shutdown drain, then the error mapper (it wraps
 * everything below it), then each area's router, then oidc-provider for the protocol paths it
 * owns. Unknown routes end in a 404 error.
 */
import Koa from 'koa';
import type { Services } from '../gateway.js';
import { isProviderPath, type OpenIdProvider } from '../oauth/provider.js';
import { interactionRoutes } from '../web/interactions.js';
import { samlRoutes } from '../web/saml-routes.js';
import { redirectRoutes } from '../web/redirect-routes.js';
import { accountPages } from '../web/pages/account.js';
import { notFoundForBrowsers } from '../web/pages/error-pages.js';
import { adminPages } from '../web/pages/admin.js';
import { signInPages } from '../web/pages/sign-in.js';
import { tokenPages } from '../web/pages/tokens.js';
import { staticRoutes } from '../web/static.js';
import { readProviderForm } from './body.js';
import { errorHandler } from './errors.js';
import { requestContext } from './request-context.js';
import { adminRoutes } from './routes/admin-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { forwardAuthRoutes } from './routes/forward-auth.js';
import { healthRoutes } from './routes/health.js';
import { oauthRoutes } from './routes/oauth-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
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
import { apiReferencePages } from '../web/pages/api-reference.js';
import { tokenExchangeOperation } from './routes/token-exchange.js';
import { packageVersion } from '../version.js';

export function createApp(services: Services, oidc: OpenIdProvider, drain = new Drain()): Koa {
  const { trustProxy, proxyHops } = services.config.server;
  // maxIpsCount: only the entries our own proxies appended count; the client writes the rest.
  const app = new Koa({ proxy: trustProxy, maxIpsCount: proxyHops });
  // Koa prints every error itself unless told not to; errorHandler decides what is logged.
  app.silent = true;
  app.use(requestContext);
  const logger = services.logger.child({ component: 'http' });
  // The failure only, never the request: bodies and headers may carry secrets.
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    logger.error({ err, method: ctx?.method, route: ctx ? routeOf(ctx) : undefined }, 'request failed');
  });
  app.use(observeRequests(services.metrics, logger.child({}, flatLineRedaction)));
  app.use(drain.middleware());
  app.use(errorHandler);
  app.use(async function securityHeaders(ctx, next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  });
  app.use(notFoundForBrowsers);
  app.use(corsPolicy(services.config.server.cors.origins));
  // RFC 8693 workload token exchange; every other grant at /oauth2/token goes on to the provider.
  app.use(tokenExchangeEndpoint(services, oidc, services.workload));
  // The OpenAPI document describes every ApiRouter's operations (and the token exchange, which
  // is middleware above); built on first request, when every router below has registered.
  let document: OpenApiDocument | undefined;
  const openApi = () => (document ??= buildOpenApiDocument(operations, { version: packageVersion(), issuer: services.config.server.issuer! }));
  // The hot paths (introspection, forward auth) come first so they pass the fewest routers.
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
    interactionRoutes(services, oidc),
    samlRoutes(services, oidc),
    redirectRoutes(services, oidc),
    signInPages(services),
    tokenPages(services),
    adminPages(services),
    accountPages(services),
    openApiRoutes(openApi, services.config.server.bodyLimitBytes),
    apiReferencePages(openApi),
    staticRoutes(),
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
