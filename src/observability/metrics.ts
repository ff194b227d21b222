/**
 * Every Prometheus series Tessera exposes, declared once on a registry of its own (not
 * prom-client's global one, so several gateways can run in one process, as the tests do).
 *
 * Labels are bounded sets only: route *templates* (`/api/v1/tokens/:id`), never raw paths, token
 * kinds, outcome words, source ids from the config. Nothing that a client chooses freely becomes
 * a label, so a scanner cannot blow up the series count.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; the hot paths answer in ~1 ms, sign-ins with scrypt or LDAP in ~100 ms. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_BUCKETS = [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export type CheckResult = 'active' | 'inactive' | 'error';
export interface SourceHealth {
  /** The config section that lists the source: ldap, saml, openidConnect. */
  kind: string;
  source: string;
  up: boolean;
}
export type LoginOutcome = 'succeeded' | 'failed' | 'throttled' | 'unavailable' | 'error';

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'Time from receiving a request to sending the last byte of its answer.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  readonly httpInFlight = new Gauge({
    name: 'tessera_http_requests_in_flight',
    help: 'Requests being processed now (drains to 0 during a graceful shutdown).',
    registers: [this.registry],
  });

  readonly introspections = new Counter({
    name: 'tessera_introspections_total',
    help: 'RFC 7662 introspections of Tessera tokens, by token kind (pat, access, refresh, unknown) and result.',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly forwardAuthChecks = new Counter({
    name: 'tessera_forward_auth_checks_total',
    help: 'Forward-auth checks (/auth/verify), by credential kind (pat, access, basic, none, unknown) and result.',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly storeDuration = new Histogram({
    name: 'tessera_store_command_duration_seconds',
    help: 'Latency of store operations (one Redis round trip or Lua script each), by operation.',
    labelNames: ['command'] as const,
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'tessera_store_errors_total',
    help: 'Store operations that failed because the store was unreachable, slow or refused the command.',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'tessera_logins_total',
    help: 'Password sign-ins (API, web, OIDC), by identity source and outcome.',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly throttled = new Counter({
    name: 'tessera_login_throttled_total',
    help: 'Sign-in attempts refused by the failure throttle (lockouts).',
    registers: [this.registry],
  });

  /** Each identity source's health, read at scrape time (set by the composition root). */
  sourceHealth: () => SourceHealth[] = () => [];

  readonly sourceUp: Gauge<'kind' | 'source'> = new Gauge({
    name: 'tessera_identity_source_up',
    help: 'Whether an LDAP directory answered its last request, or a SAML source holds usable IdP metadata (1 yes, 0 no).',
    labelNames: ['kind', 'source'] as const,
    registers: [this.registry],
    collect: () => {
      // Rebuilt at each scrape: a source not yet contacted has no sample rather than a guess.
      this.sourceUp.reset();
      for (const { kind, source, up } of this.sourceHealth()) this.sourceUp.set({ kind, source }, up ? 1 : 0);
    },
  });

  readonly ready = new Gauge({
    name: 'tessera_ready',
    help: '1 while the gateway takes traffic, 0 once a shutdown has begun.',
    registers: [this.registry],
  });

  /** Signals (docs/signals.md): `kind` ssf|webhook|mail; `outcome` as in the delivery logs. */
  readonly signalDeliveries = new Counter({
    name: 'tessera_signal_deliveries_total',
    help: 'Delivery attempts of SSF events, webhooks and notice e-mails, by kind and outcome (delivered, retrying, given_up, refused).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (CPU, memory, event-loop lag, GC, open handles) under their standard names.
    collectDefaultMetrics({ register: this.registry });
    this.ready.set(1);
  }

  /** The Prometheus text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
