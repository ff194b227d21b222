/**
 * The composition root: builds the store and the services from a validated config. The HTTP
 * app, the CLI's `serve` and the tests all start here, so there is one way to wire Tessera.
 */
import { systemClock, type Clock } from './clock.js';
import { AuditTrail } from './audit/trail.js';
import { jsonLinesToStdout, type AuditSink } from './audit/sinks.js';
import type { TesseraConfig } from './config/schema.js';
import { LdapSource } from './identity/ldap/ldap-source.js';
import { LocalSource } from './identity/local/local-source.js';
import { DeviceTrust } from './identity/devices.js';
import { LoginService } from './identity/login.js';
import { SamlSource } from './identity/saml/saml-source.js';
import { RedirectSignIns } from './identity/redirect-sign-ins.js';
import { openSources } from './identity/registry.js';
import type { IdentitySource, RedirectSource } from './identity/source.js';
import { LoginThrottle } from './identity/throttle.js';
import { UserService } from './identity/users.js';
import { ClientRegistry } from './oauth/clients.js';
import { Introspection } from './oauth/introspection.js';
import type { KeyEncryption } from './oauth/key-encryption.js';
import { SealedSecrets } from './oauth/sealed-secrets.js';
import { ProviderKeys } from './oauth/keys.js';
import { MemoryStore } from './store/memory/memory-store.js';
import { RedisStore } from './store/redis/redis-store.js';
import { StoreMonitor } from './store/monitor.js';
import type { Store } from './store/store.js';
import { BearerAuthenticator } from './tokens/bearer.js';
import { CredentialsNotBefore } from './tokens/not-before.js';
import { CredentialRevocation } from './tokens/revocation.js';
import { ScopeVocabulary } from './tokens/scope-vocabulary.js';
import { PatService } from './tokens/pat-service.js';
import { ProviderSignIns } from './tokens/provider-sign-ins.js';
import { SessionService } from './tokens/login-sessions.js';
import { silentLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { meterIntrospection, meterLogins, reportSourceHealth } from './observability/service-metrics.js';
import { observeStore } from './observability/store-metrics.js';
import { WorkloadExchange } from './workload/exchange.js';
import { LeakReports } from './leaks/leak-reports.js';
import { WorkloadIssuers } from './workload/issuers.js';
import { Signals } from './signals/signals.js';

export interface Services {
  config: TesseraConfig;
  clock: Clock;
  store: Store;
  users: UserService;
  login: LoginService;
  /** The LDAP sources among `sources`, in config order (for LDAP-specific tests and tools). */
  ldapSources: LdapSource[];
  /** The SAML sources among `sources`, in config order; routes/saml.ts serves them. */
  samlSources: SamlSource[];
  /** Pending SAML sign-ins, hand-offs and the assertion replay cache (the same object as `signIns`). */
  samlSignIns: RedirectSignIns;
  /** Every configured source (identity/registry.ts); server.ts loads, starts and closes them. */
  sources: IdentitySource[];
  /** The sources that send the browser elsewhere: one sign-in button each. */
  redirectSources: RedirectSource[];
  /** Pending redirect sign-ins (SAML, OpenID Connect) and their one-time hand-offs. */
  signIns: RedirectSignIns;
  sessions: SessionService;
  pats: PatService;
  bearer: BearerAuthenticator;
  clients: ClientRegistry;
  introspection: Introspection;
  /** The store's durability checks: run at start-up and every store.checkInterval; /readyz reads it. */
  storeMonitor: StoreMonitor;
  /** The audit trail: every service records its security-relevant actions here. */
  audit: AuditTrail;
  /** The emergency switch's gateway-wide "not before"; server.ts loads it before listening. */
  notBefore: CredentialsNotBefore;
  /** Ends every credential of a user, or of everyone. */
  revocation: CredentialRevocation;
  /** OIDC signing and cookie keys in the store (encrypted with the KEK when one is set). */
  keys: ProviderKeys;
  /** The root logger; components get children of it. */
  logger: Logger;
  metrics: Metrics;
  /** RFC 8693 exchange of CI/cluster identity tokens for short-lived PATs (workloadIdentity). */
  workload: WorkloadExchange;
  /** Leaked-token reports (GitHub secret scanning, admins): revoke what they name. */
  leaks: LeakReports;
  /** Shared Signals (SSF) streams and webhooks: audit outcomes pushed to those who trust our tokens. */
  signals: Signals;
  /** Seals secrets kept on someone's behalf with the KEK; checks at start that it has the KEKs they need. */
  secrets: SealedSecrets;
}

/** Is a Redis (standalone, Sentinel or Cluster) configured? Otherwise the embedded store runs. */
export const redisConfigured = ({ store }: TesseraConfig): boolean => Boolean(store.redisUrl || store.clusterNodes?.length || store.sentinel);

/** Redis when configured, else the embedded in-memory store. Also used by `tessera admin recover/export/import`. */
export function openStore(config: TesseraConfig, log?: (line: string) => void): Store {
  const { store, tokens } = config;
  if (redisConfigured(config)) {
    return RedisStore.connect({
      url: store.redisUrl,
      clusterNodes: store.clusterNodes,
      sentinel: store.sentinel,
      keyPrefix: store.keyPrefix,
      auditRetentionMs: tokens.auditRetention,
      lastUsedPrecisionMs: tokens.lastUsedPrecision,
      commandTimeoutMs: store.commandTimeout,
      replicaAcks: store.replicaAcks,
      replicaAckTimeoutMs: store.replicaAckTimeout,
      log: log ?? ((line) => console.warn(line)),
    });
  }
  return new MemoryStore({ auditRetentionMs: tokens.auditRetention, lastUsedPrecisionMs: tokens.lastUsedPrecision });
}

/**
 * The cookie keys, for deriving the device-credential key: read from the key set at most once a
 * minute (a rotated-in cookie key then signs; the older ones still verify until they retire).
 */
function sharedCookieKeys(keys: ProviderKeys, clock: Clock): () => Promise<string[]> {
  let cached: { at: number; keys: Promise<string[]> } | undefined;
  return () => {
    if (!cached || clock() - cached.at > 60_000) {
      const entry = { at: clock(), keys: keys.snapshot().then((s) => s.cookieKeys) };
      entry.keys.catch(() => {
        if (cached === entry) cached = undefined; // the store was unreachable: ask again next time
      });
      cached = entry;
    }
    return cached.keys;
  };
}

/** For components that log plain lines: each becomes an `info` line of the component's logger. */
const lineLogger = (logger: Logger, component: string) => {
  const child = logger.child({ component });
  return (line: string): void => child.info(line);
};

export function createServices(
  config: TesseraConfig,
  options: { store?: Store; clock?: Clock; logger?: Logger; metrics?: Metrics; auditSinks?: AuditSink[]; keyEncryption?: KeyEncryption | null } = {},
): Services {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? new Metrics();
  const storeLogger = logger.child({ component: 'store' });
  const store = observeStore(options.store ?? openStore(config, (line) => storeLogger.warn(line)), {
    metrics,
    logger: storeLogger,
    slowMs: config.store.commandTimeout / 2,
  });
  // Audit events go to the store and, as JSON lines marked `audit: true`, to the log stream.
  const audit = new AuditTrail({ store, clock, retentionMs: config.audit.retention, sinks: options.auditSinks ?? [logger.child({ component: 'audit' })] });
  const users = new UserService(store, config, clock, audit);
  const throttle = new LoginThrottle(store, config.auth.lockout, clock);
  const signIns = new RedirectSignIns(store, clock);
  const secrets = new SealedSecrets(options.keyEncryption ?? null, { store, clock });
  const sources = openSources({ config, users, store, clock, logger, signIns, secrets });
  const ldapSources = sources.all.filter((s) => s instanceof LdapSource);
  const samlSources = sources.all.filter((s) => s instanceof SamlSource);
  const keys = new ProviderKeys(store, {
    clock,
    retirementMs: config.oidc.keyRetirement,
    activationDelayMs: config.oidc.keyActivationDelay,
    configuredCookieKeys: config.oidc.cookieKeys,
    encryption: options.keyEncryption ?? null,
  });
  const devices = new DeviceTrust(sharedCookieKeys(keys, clock), config.auth.lockout.deviceTtl, clock);
  const login = new LoginService([new LocalSource(store, config.passwords.scryptCost), ...sources.password], users, throttle, devices, audit);
  const notBefore = new CredentialsNotBefore(store);
  const sessions = new SessionService(store, config.auth, clock, audit, notBefore, new ProviderSignIns(store, config.clients, audit));
  const pats = new PatService(store, users, config.tokens, clock, audit, notBefore, new ScopeVocabulary(config));
  const bearer = new BearerAuthenticator(pats, sessions);
  const clients = new ClientRegistry(config.clients);
  const introspection = new Introspection(config.server.issuer!, pats, sessions);
  const revocation = new CredentialRevocation(store, users, notBefore, clock, audit);
  const storeMonitor = new StoreMonitor(store, { intervalMs: config.store.checkInterval, log: (line) => (line.startsWith('ERROR') ? storeLogger.error(line) : storeLogger.warn(line)) });
  meterLogins(login, metrics, logger.child({ component: 'login' }));
  meterIntrospection(introspection, metrics);
  reportSourceHealth(metrics, sources.kinds);
  const workload = new WorkloadExchange(config.workloadIdentity, new WorkloadIssuers(config.workloadIdentity, clock), pats, store, clock, audit, lineLogger(logger, 'workload'));
  const leaks = new LeakReports(config.leakReports, { store, pats, sessions, clock, audit, log: lineLogger(logger, 'leaks') });
  const signals = new Signals(config, { store, clock, audit, metrics, secrets, logger: logger.child({ component: 'signals' }) });
  return { config, clock, store, users, login, ldapSources, samlSources, samlSignIns: signIns, sources: sources.all, redirectSources: sources.redirect, signIns, sessions, pats, bearer, clients, introspection, storeMonitor, audit, notBefore, revocation, keys, logger, metrics, workload, leaks, signals, secrets };
}
