/**
 * The composition root: builds the store and the services from a validated config. The HTTP
 * app, the CLI's `serve` and the tests all start here, so there is one way to wire Tessera.
 */
import { systemClock, type Clock } from './clock.js';
import type { TesseraConfig } from './config/schema.js';
import { LdapSource } from './identity/ldap/ldap-source.js';
import { LocalSource } from './identity/local/local-source.js';
import { LoginService } from './identity/login.js';
import { SamlSource } from './identity/saml/saml-source.js';
import { SamlSignIns } from './identity/saml/sign-ins.js';
import { LoginThrottle } from './identity/throttle.js';
import { UserService } from './identity/users.js';
import { ClientRegistry } from './oauth/clients.js';
import { Introspection } from './oauth/introspection.js';
import { MemoryStore } from './store/memory/memory-store.js';
import { RedisStore } from './store/redis/redis-store.js';
import type { Store } from './store/store.js';
import { BearerAuthenticator } from './tokens/bearer.js';
import { PatService } from './tokens/pat-service.js';
import { SessionService } from './tokens/sessions.js';

export interface Services {
  config: TesseraConfig;
  clock: Clock;
  store: Store;
  users: UserService;
  login: LoginService;
  /** LDAP sources in config order; server.ts starts their revalidators and closes them. */
  ldapSources: LdapSource[];
  /** SAML sources in config order; server.ts loads their IdP metadata at start-up. */
  samlSources: SamlSource[];
  /** Pending SAML sign-ins, hand-offs and the assertion replay cache. */
  samlSignIns: SamlSignIns;
  sessions: SessionService;
  pats: PatService;
  bearer: BearerAuthenticator;
  clients: ClientRegistry;
  introspection: Introspection;
}

/** Is a Redis (standalone, Sentinel or Cluster) configured? Otherwise the embedded store runs. */
export const redisConfigured = ({ store }: TesseraConfig): boolean => Boolean(store.redisUrl || store.clusterNodes?.length || store.sentinel);

/** Redis when configured, else the embedded in-memory store. */
function openStore(config: TesseraConfig): Store {
  const { store, tokens } = config;
  if (redisConfigured(config)) {
    return RedisStore.connect({
      url: store.redisUrl,
      clusterNodes: store.clusterNodes,
      sentinel: store.sentinel,
      keyPrefix: store.keyPrefix,
      auditRetentionMs: tokens.auditRetention,
      commandTimeoutMs: store.commandTimeout,
    });
  }
  return new MemoryStore({ auditRetentionMs: tokens.auditRetention });
}

export function createServices(config: TesseraConfig, options: { store?: Store; clock?: Clock; log?: (line: string) => void } = {}): Services {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? openStore(config);
  const users = new UserService(store, config, clock);
  const throttle = new LoginThrottle(store, config.auth.lockout, clock);
  const ldapSources = config.ldap.map((ldap) => new LdapSource(ldap, { users, store, clock, log: options.log }));
  const samlSignIns = new SamlSignIns(store, clock);
  const samlSources = config.saml.map((saml) => new SamlSource(saml, { store, clock, signIns: samlSignIns, issuer: config.server.issuer!, limits: config.samlLimits, log: options.log }));
  const login = new LoginService([new LocalSource(store, config.passwords.scryptCost), ...ldapSources], users, throttle);
  const sessions = new SessionService(store, config.auth, clock);
  const pats = new PatService(store, users, config.tokens, clock);
  const bearer = new BearerAuthenticator(pats, sessions);
  const clients = new ClientRegistry(config.clients);
  const introspection = new Introspection(config.server.issuer!, pats, sessions);
  return { config, clock, store, users, login, ldapSources, samlSources, samlSignIns, sessions, pats, bearer, clients, introspection };
}
