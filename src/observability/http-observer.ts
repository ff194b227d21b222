/**
 * One access line and one set of HTTP metrics per request, written when the response is done
 * (so the status is the one the client got, also for oidc-provider's routes, which answer
 * through `res` directly).
 *
 * The route is the router's template (`/api/v1/tokens/:id`), never the raw path: paths can hold
 * ids, and a mistyped URL can hold a token. Requests no router matched are `(unmatched)`.
 * Nothing from headers or bodies is logged except the request id.
 */
import type { Context, Next } from 'koa';
import { performance } from 'node:perf_hooks';
import { isProviderPath } from '../oauth/provider.js';
import type { Principal } from '../tokens/principal.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { tokenKind } from './service-metrics.js';

/** oidc-provider's own endpoints: fixed paths, so they are their own templates. */
const PROVIDER_ROUTES = new Set([
  '/oauth2/authorize', '/oauth2/token', '/oauth2/userinfo', '/oauth2/jwks', '/oauth2/introspect', '/oauth2/revoke',
  '/oauth2/device/auth', '/oauth2/device', '/oauth2/device/confirm', '/oauth2/session/end', '/oauth2/session/end/confirm',
  '/oauth2/session/end/success', '/oauth2/par', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server',
]);

/** Probes and scrapes arrive every few seconds: at `info` they would drown the access log. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** A client-chosen request id is echoed into logs only when it looks like one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (PROVIDER_ROUTES.has(ctx.path)) return ctx.path;
  if (isProviderPath(ctx.path)) return '/oauth2/(other)';
  return '(unmatched)';
}

function requestIdOf(ctx: Context): string | undefined {
  // The request context middleware sets the response header (generated or accepted); before it
  // exists, a proxy's id on the request is the best there is.
  const id = ctx.response.get('X-Request-Id') || ctx.get('X-Request-Id');
  return REQUEST_ID.test(id) ? id : undefined;
}

function principalOf(ctx: Context): Principal | undefined {
  return (ctx.state.principal ?? ctx.state.webPrincipal ?? undefined) as Principal | undefined;
}

/** What `/auth/verify` decided, from the status it answered with. */
function forwardAuthResult(status: number): string {
  if (status === 200) return 'active';
  if (status === 401) return 'inactive';
  if (status === 403) return 'insufficient_scope';
  return 'error';
}

function credentialKind(ctx: Context): string {
  const header = ctx.get('Authorization');
  if (!header) return 'none';
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'basic') return 'basic';
  return scheme?.toLowerCase() === 'bearer' ? tokenKind(value.trim()) : 'unknown';
}

export function observeRequests(metrics: Metrics, logger: Logger) {
  return async function observeRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    metrics.httpInFlight.inc();
    // Read before the handlers run: only the scheme and the token's kind, never the value.
    const kind = ctx.path === '/auth/verify' ? credentialKind(ctx) : undefined;
    ctx.res.once('close', () => {
      metrics.httpInFlight.dec();
      const seconds = (performance.now() - started) / 1000;
      const route = routeOf(ctx);
      // A response cut short (client gone, shutdown deadline) never reached the client: 499, as nginx says.
      const status = ctx.res.writableFinished ? ctx.res.statusCode : 499;
      const labels = { method: ctx.method, route, status: String(status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      if (kind !== undefined && route === '/auth/verify') metrics.forwardAuthChecks.inc({ kind, result: forwardAuthResult(status) });
      const principal = principalOf(ctx);
      const line = {
        method: ctx.method,
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        ip: ctx.ip,
        userId: principal?.user.id,
        tokenId: principal?.tokenId,
        requestId: requestIdOf(ctx),
      };
      if (QUIET_ROUTES.has(route) && status < 400) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    await next();
  };
}
