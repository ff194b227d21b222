/**
 * Starting and stopping a gateway: config → services → bootstrap admin → HTTP server. Used by
 * `npm start` (src/main.ts), `tessera serve` and the tests, which start real servers on loopback.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TesseraConfig } from './config/schema.js';
import { createServices, redisConfigured, type Services } from './gateway.js';
import { createApp } from './http/app.js';
import { OpenIdProvider } from './oauth/provider.js';
import type { Clock } from './clock.js';
import type { Store } from './store/store.js';
import { Drain, drainServer } from './observability/drain.js';
import { silentLogger, type Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { startMetricsListener } from './observability/metrics-routes.js';

export interface RunningGateway {
  services: Services;
  oidc: OpenIdProvider;
  server: Server;
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
}

export async function startGateway(config: TesseraConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? silentLogger;
  const services = createServices(config, options);
  const usingMemory = !options.store && !redisConfigured(config);
  if (usingMemory) {
    logger.warn('WARNING: no REDIS_URL set: using the embedded in-memory store. All users, tokens and sessions are lost on restart, and this gateway cannot share state with others.');
  }
  await services.store.ping();

  const generated = options.adminPassword === undefined;
  const adminPassword = options.adminPassword ?? randomBytes(18).toString('base64url');
  if (await services.users.ensureAdmin(adminPassword)) {
    logger.info(generated ? 'Created user "admin" with a generated password, printed once to stderr (never to the log)' : 'Created user "admin" with the password from TESSERA_ADMIN_PASSWORD.');
    // To the terminal only, outside the log stream that is shipped and kept: no secret in logs.
    if (generated) process.stderr.write(`Created user "admin" with generated password (shown once): ${adminPassword}\n`);
  }

  // Before listening, so the first sign-in finds the IdP metadata (a source that cannot get it logs and answers 503).
  await Promise.all(services.samlSources.map((source) => source.load()));

  const oidc = new OpenIdProvider(services);
  await oidc.load();
  oidc.watch();
  services.bearer.useProviderLogins(oidc.cliLogins());
  const drain = new Drain();
  const app = createApp(services, oidc, drain);
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
  for (const source of services.ldapSources) source.revalidator.start();

  return {
    services,
    oidc,
    server,
    url,
    metricsServer,
    async close() {
      services.metrics.ready.set(0);
      await drainServer(server, drain, config.server.shutdownGraceSeconds * 1000, logger);
      // Last, so a scrape can watch the drain.
      if (metricsServer) await drainServer(metricsServer, new Drain(), 0, logger);
      oidc.stop();
      await Promise.all(services.ldapSources.map((source) => source.close()));
      await services.store.close();
    },
  };
}
