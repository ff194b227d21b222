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
import { configFacts } from './audit/config-facts.js';
import type { AuditSink } from './audit/sinks.js';

export interface RunningGateway {
  services: Services;
  oidc: OpenIdProvider;
  server: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  store?: Store;
  clock?: Clock;
  /** Password for the bootstrap `admin`; generated and printed when absent. */
  adminPassword?: string;
  log?: (line: string) => void;
  /** Where audit events are logged besides the store (default: JSON lines on stdout). */
  auditSinks?: AuditSink[];
}

export async function startGateway(config: TesseraConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const log = options.log ?? ((line: string) => console.log(line));
  const services = createServices(config, options);
  const usingMemory = !options.store && !redisConfigured(config);
  if (usingMemory) {
    log('WARNING: no REDIS_URL set: using the embedded in-memory store. All users, tokens and sessions are lost on restart, and this gateway cannot share state with others.');
  }
  await services.store.ping();
  // Refuses (UnsafeStore, exit code 2) a store that may evict keys; warnings are logged.
  await services.storeMonitor.checkAtStart().catch(async (error: unknown) => {
    await services.store.close();
    throw error;
  });
  services.storeMonitor.start();
  await services.audit.record({ type: 'config.loaded', actor: { credential: 'system' }, details: configFacts(config) });
  await services.notBefore.load();

  const generated = options.adminPassword === undefined;
  const adminPassword = options.adminPassword ?? randomBytes(18).toString('base64url');
  if (await services.users.ensureAdmin(adminPassword)) {
    log(generated ? `Created user "admin" with generated password (shown once): ${adminPassword}` : 'Created user "admin" with the password from TESSERA_ADMIN_PASSWORD.');
  }

  // Before listening, so the first sign-in finds the IdP metadata (a source that cannot get it logs and answers 503).
  await Promise.all(services.samlSources.map((source) => source.load()));

  const oidc = new OpenIdProvider(services);
  await oidc.load();
  oidc.watch();
  services.bearer.useProviderLogins(oidc.cliLogins());
  const app = createApp(services, oidc);
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
  log(`Tessera listening on ${url} (issuer ${config.server.issuer})`);
  for (const source of services.ldapSources) source.revalidator.start();

  return {
    services,
    oidc,
    server,
    url,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      oidc.stop();
      await services.storeMonitor.stop();
      await Promise.all(services.ldapSources.map((source) => source.close()));
      await services.store.close();
    },
  };
}
