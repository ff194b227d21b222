/**
 * Starting and stopping a gateway: config → services → bootstrap admin → HTTP server. Used by
 * `npm start` (src/main.ts), `tessera serve` and the tests, which start real servers on loopback.
 * This is where the layers meet: the OpenID Provider gets its pages here, and the app gets the
 * REST routes (http/), the pages (web/area.ts) and the provider, so no layer imports the one
 * above it (docs/architecture.md).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TesseraConfig } from './config/schema.js';
import { createServices, redisConfigured, type Services } from './services.js';
import type Koa from 'koa';
import { createApp } from './http/app.js';
import { OpenIdProvider } from './oauth/provider.js';
import { providerPages } from './web/views/provider-pages.js';
import { pageArea } from './web/area.js';
import { BootstrapAdmin } from './identity/admin-bootstrap.js';
import { KEK_ENV, KeyEncryption } from './oauth/key-encryption.js';
import type { Clock } from './clock.js';
import type { Store } from './store/store.js';
import { configFacts } from './audit/config-facts.js';
import type { AuditSink } from './audit/sinks.js';
import { Drain, drainServer } from './observability/drain.js';
import { silentLogger, type Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { startMetricsListener } from './observability/metrics-routes.js';
import { SEALED_USE as SSF_SEALED_USE } from './signals/streams.js';

export interface RunningGateway {
  services: Services;
  oidc: OpenIdProvider;
  server: Server;
  /** The Koa application the server runs (its routers are what the OpenAPI check walks). */
  app: Koa;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** The `metrics.listen` listener, when configured. */
  metricsServer?: Server;
  /**
   * Graceful stop: readiness 503, no new connections, requests in flight finish (at most
   * `server.shutdownGraceSeconds`), keep-alive connections close after their current request;
   * then background jobs stop and the store closes.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  store?: Store;
  clock?: Clock;
  /** Password for the bootstrap `admin`; generated and printed when absent. */
  adminPassword?: string;
  /** Default: no logging (tests, benchmarks); `npm start` passes the configured logger. */
  logger?: Logger;
  metrics?: Metrics;
  /** Where audit events go besides the store (default: the logger, as JSON lines with `audit: true`). */
  auditSinks?: AuditSink[];
  /** How often to check that the bootstrap admin still exists (default 30 s). */
  adminCheckIntervalMs?: number;
  /** Where a generated admin password is shown once (default: stderr, never the log stream). */
  revealAdminPassword?: (line: string) => void;
  /** The KEK for keys at rest; default from TESSERA_KEY_ENCRYPTION_KEY(_PREVIOUS); null: none. */
  keyEncryption?: KeyEncryption | null;
}

/**
 * Creates, wraps or re-wraps the stored keys, and says loudly when they are stored in clear (not
 * for the embedded store: it keeps nothing at rest, and has its own warning).
 */
async function prepareKeys(services: Services, logger: Logger, atRest: boolean): Promise<void> {
  for (const change of await services.keys.prepare()) logger.info(`Keys: ${change}.`);
  if (atRest && !services.keys.encrypted) {
    logger.warn(
      `WARNING: ${KEK_ENV} is not set: the OIDC signing keys and cookie keys are stored IN CLEAR. Anyone who can read the store can forge ID tokens, JWT access tokens and provider cookies. Set it to 32 random bytes in base64 (openssl rand -base64 32); the keys are encrypted at the next start.`,
    );
  }
}

export async function startGateway(config: TesseraConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? silentLogger;
  const keyEncryption = options.keyEncryption !== undefined ? options.keyEncryption : KeyEncryption.fromEnv(process.env);
  const services = createServices(config, { ...options, keyEncryption });
  const usingMemory = !options.store && !redisConfigured(config);
  if (usingMemory) {
    logger.warn('WARNING: no REDIS_URL set: using the embedded in-memory store. All users, tokens and sessions are lost on restart, and this gateway cannot share state with others.');
  }
  try {
    await services.store.ping();
    // Refuses (UnsafeStore, exit code 2) a store that may evict keys; warnings are logged.
    await services.storeMonitor.checkAtStart();
    // Before anything else uses the store: a KEK that does not open the stored keys stops here.
    await prepareKeys(services, logger, !usingMemory);
    // Sealed upstream refresh tokens and SSF headers whose KEK is missing stop the start here,
    // not at the first re-validation or push that reads one.
    await services.secrets.checkAtStart({ [SSF_SEALED_USE]: await services.signals.streams.sealedWith() });
  } catch (error) {
    await services.store.close();
    throw error;
  }
  services.storeMonitor.start();
  await services.audit.record({ type: 'config.loaded', actor: { credential: 'system' }, details: configFacts(config) });
  await services.notBefore.load();

  const bootstrapAdmin = new BootstrapAdmin(services.store, services.users, { password: options.adminPassword, log: (line) => logger.info(line), reveal: options.revealAdminPassword, now: services.clock });
  await bootstrapAdmin.ensure();
  bootstrapAdmin.start(options.adminCheckIntervalMs);

  // Before listening, so the first sign-in finds the IdP metadata or discovery document (a source
  // that cannot get it logs and answers 503 until it can).
  await Promise.all(services.sources.map((source) => source.load?.()));

  const oidc = new OpenIdProvider(services, providerPages);
  await oidc.load();
  await oidc.watch();
  services.bearer.useProviderLogins(oidc.cliLogins());
  services.signals.start(() => oidc.currentSigningKey());
  const drain = new Drain();
  const app = createApp(services, oidc, pageArea(services, oidc), drain);
  // 16 KiB of headers at most: a larger request gets 431 from Node before any of our code runs.
  const server = createServer({ maxHeaderSize: 16 * 1024 }, app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, issuer: config.server.issuer }, `Tessera listening on ${url} (issuer ${config.server.issuer})`);
  const metricsServer = config.metrics.listen ? await startMetricsListener(services.metrics, config.metrics.listen) : undefined;
  if (metricsServer) logger.info({ listen: config.metrics.listen }, `metrics on http://${config.metrics.listen}/metrics`);
  for (const source of services.sources) source.start?.();

  return {
    services,
    oidc,
    server,
    app,
    url,
    metricsServer,
    async close() {
      services.metrics.ready.set(0);
      await drainServer(server, drain, config.server.shutdownGraceSeconds * 1000, logger);
      // Last, so a scrape can watch the drain.
      if (metricsServer) await drainServer(metricsServer, new Drain(), 0, logger);
      oidc.stop();
      await services.signals.stop();
      await services.storeMonitor.stop();
      bootstrapAdmin.stop();
      await Promise.all(services.sources.map((source) => source.close?.()));
      await services.store.close();
    },
  };
}
