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
  // The router's template, or the path of a route served without one (http/hot-routes.ts).
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute ?? ctx.state.route;
  if (typeof matched === 'string') return matched;
  if (PROVIDER_ROUTES.has(ctx.path)) return ctx.path;
  if (isProviderPath(ctx.path)) return '/oauth2/(other)';
  return '(unmatched)';
}

function requestIdOf(ctx: Context): string | undefined {
  // The request context (http/request-context.ts) keeps the id it accepted or generated; before
  // it runs, a proxy's id on the request is the best there is.
  const id = (ctx.state.requestId as string | undefined) || ctx.get('X-Request-Id');
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

/** The two series every request updates, for one method, route and status. */
interface HttpSeries {
  requests: { inc(): void };
  duration: { observe(seconds: number): void };
}

/**
 * Label children of the HTTP series, made once per method/route/status and kept: the hot routes
 * then skip prom-client's label checks and lookups on every request. The label values are the
 * bounded sets above (route templates, the methods Node's parser accepts, status codes), and the
 * cache stops growing at `MAX_SERIES` all the same.
 */
const MAX_SERIES = 2000;

function seriesCache(metrics: Metrics) {
  const cache = new Map<string, HttpSeries>();
  return (method: string, route: string, status: number): HttpSeries => {
    const key = `${method} ${status} ${route}`;
    let series = cache.get(key);
    if (!series) {
      const labels = [method, route, String(status)] as const;
      series = { requests: metrics.httpRequests.labels(...labels), duration: metrics.httpDuration.labels(...labels) };
      if (cache.size < MAX_SERIES) cache.set(key, series);
    }
    return series;
  };
}

export function observeRequests(metrics: Metrics, logger: Logger) {
  const seriesOf = seriesCache(metrics);

  function finished(ctx: Context, started: number, kind: string | undefined): void {
    metrics.httpInFlight.dec();
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(ctx);
    // A response cut short (client gone, shutdown deadline) never reached the client: 499, as nginx says.
    const status = ctx.res.writableFinished ? ctx.res.statusCode : 499;
    const series = seriesOf(ctx.method, route, status);
    series.requests.inc();
    series.duration.observe(seconds);
    if (kind !== undefined && route === '/auth/verify') metrics.forwardAuthChecks.inc({ kind, result: forwardAuthResult(status) });
    const quiet = QUIET_ROUTES.has(route) && status < 400;
    // Probes at debug: when debug is off, the line is not even built.
    if (quiet && !logger.isLevelEnabled('debug')) return;
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
    if (quiet) logger.debug(line, 'request');
    else logger.info(line, 'request');
  }

  // Not `async`: it adds no promise of its own to every request, it hands back the next one's.
  return function observeRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    metrics.httpInFlight.inc();
    // Read before the handlers run: only the scheme and the token's kind, never the value.
    const kind = ctx.path === '/auth/verify' ? credentialKind(ctx) : undefined;
    ctx.res.once('close', () => finished(ctx, started, kind));
    return next();
  };
}
