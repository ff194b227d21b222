/**
 * The one home of every Tessera option: type, default, and why. `loadConfig` validates a YAML
 * file (TESSERA_CONFIG) plus environment overrides against this schema at start-up and reports
 * every problem at once, naming the key. Unknown keys are errors: a typo must not silently fall
 * back to a default in an identity product.
 *
 * Durations accept seconds (number) or strings like `90s`, `15m`, `1h`, `30d` and are stored in ms.
 */
import { notificationsSchema, signalsSchema, webhooksSchema } from '../signals/config.js';
import { z } from 'zod';
import { durationField } from './duration.js';
import { samlLimitsSchema } from '../identity/saml/config.js';
import { checkSourceIdsUnique, sourceConfigs } from '../identity/source-kinds.js';
import { leakReportsSchema } from '../leaks/config.js';
import { workloadIdentitySchema } from '../workload/config.js';

const duration = durationField;

const role = z.enum(['admin', 'normal']);

const server = z.strictObject({
  /** TCP port. Env PORT overrides. */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Bind address. Default all interfaces, as a container expects. */
  host: z.string().default('0.0.0.0'),
  /**
   * Public base URL of the gateway. Used as `iss` in introspection answers and, later, as the
   * OpenID Provider issuer. Must be what clients see (behind a proxy: the external URL).
   * Default: http://localhost:<port>.
   */
  issuer: z.url().optional(),
  /**
   * Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy. Only turn on behind a proxy
   * you control: otherwise clients can pick the IP that login throttling and last-used record.
   */
  trustProxy: z.boolean().default(false),
  /**
   * With trustProxy: how many proxies append to X-Forwarded-For. The client IP is read that many
   * entries from the right; entries further left were written by the client and are ignored.
   */
  proxyHops: z.number().int().min(1).max(10).default(1),
  /** Largest request body accepted, in bytes; larger bodies get 413 before parsing. */
  bodyLimitBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  /**
   * On SIGTERM/SIGINT: how long requests in flight may take to finish before the process closes
   * their connections and exits. Readiness answers 503 at once, so a load balancer stops sending
   * new requests; keep this below the orchestrator's kill timeout (Kubernetes: 30 s).
   */
  shutdownGraceSeconds: z.number().min(0).max(600).default(10),
  /**
   * Browser apps on other origins allowed to call `/api/v1` and the OAuth endpoints browsers use
   * (token, userinfo, revocation, introspection). Exact origins (`https://app.example.org`), no
   * wildcard: a listed origin is echoed back, credentials (cookies) are never allowed.
   */
  cors: z
    .strictObject({
      origins: z
        .array(z.string().refine((o) => o !== 'null' && URL.parse(o)?.origin === o, 'an exact origin such as https://app.example.org (scheme, host, port; no path, no wildcard)'))
        .default([]),
    })
    .default({ origins: [] }),
});

const store = z.strictObject({
  /**
   * Redis connection URL (redis://, rediss://). Env REDIS_URL overrides. Unset: the embedded
   * in-memory store, which loses everything on restart and cannot be shared by several gateways.
   */
  redisUrl: z.string().optional(),
  /** Redis Cluster seed nodes (host:port). When set, redisUrl is ignored. */
  clusterNodes: z.array(z.string()).optional(),
  /**
   * Redis Sentinel: sentinel addresses (host:port) and the primary's name. Failovers are
   * followed; credentials and database number come from redisUrl.
   */
  sentinel: z.strictObject({ nodes: z.array(z.string()).min(1), name: z.string().min(1) }).optional(),
  /** Prefix of every Redis key, so several gateways (or tests) can share one Redis. */
  keyPrefix: z.string().default('tessera:'),
  /**
   * Per-command timeout. A slow Redis answers 503 instead of holding requests; introspection
   * fails closed, so a timeout never reports a token active.
   */
  commandTimeout: duration('1s'),
  /**
   * Replicas that must confirm (Redis `WAIT`) every write that grants or takes away access (token
   * and session creation, revocations, disables, password changes, deletions) before the caller
   * is told it is done. Unconfirmed: the caller gets 503 and may retry (those writes are
   * idempotent). Unset: every replica the primary has had connected since this gateway started,
   * so a revoke acknowledged with 200 survives a failover; 0 turns the wait off (a failover right
   * after a revoke may then bring the token back).
   */
  replicaAcks: z.number().int().min(0).max(100).optional(),
  /**
   * How long such a write waits for its replicas. Added to `commandTimeout` for those writes
   * only; the bearer check never waits for replicas.
   */
  replicaAckTimeout: duration('500ms'),
  /**
   * How often a running gateway re-checks Redis's eviction policy and persistence (and probes a
   * write): a setting changed at run time turns /readyz to 503 within this interval.
   */
  checkInterval: duration('30s'),
});

const lockout = z.strictObject({
  /** Failures from one IP against one account within `window` before that pair is throttled. */
  maxFailuresPerAccountAndIp: z.number().int().min(1).default(5),
  /** Failures against one account from all IPs before the account is throttled for everyone. */
  maxFailuresPerAccount: z.number().int().min(1).default(50),
  /** Failures from one IP, any account, before the IP is throttled (password spraying). */
  maxFailuresPerIp: z.number().int().min(1).default(100),
  /**
   * Counting window and lock time. Locks always expire: an attacker can slow a victim down but
   * never lock them out for longer than this after the attack stops.
   */
  window: duration('15m'),
  /**
   * Failures from one known device (a browser or CLI that signed in to the account before and
   * holds its device credential) before that device alone is throttled. A known device is not
   * subject to the account-wide, address and account+address limits, which only count unknown
   * sources: failures from elsewhere never lock the owner's own browser out. A stolen device
   * credential buys this many guesses per window and no more.
   */
  maxFailuresPerDevice: z.number().int().min(1).default(10),
  /**
   * How long a sign-in may wait for earlier attempts of the same account, address or device to
   * be decided, when those attempts already use what is left of a failure limit (failures
   * recorded + attempts being checked may never exceed it, so parallel guesses cannot overshoot
   * it). It then goes ahead, or is refused with 429 "at the same time" once this has passed.
   * Correct passwords leave room at once, so honest parallel sign-ins (a CI fleet behind one
   * address signing in as one account) are checked a limit's worth at a time instead of
   * refused. `0s` refuses at once. The brute-force bound does not depend on it.
   */
  concurrentWait: duration('10s').refine((ms) => ms <= 60_000, 'at most 60s'),
  /**
   * How long a device stays known after its last successful sign-in (each sign-in renews it).
   * Long: a device that is forgotten falls back to the limits for unknown sources, which an
   * attacker can trip.
   */
  deviceTtl: duration('180d'),
});

/** Sign-ins that send the browser to an identity provider (SAML, upstream OpenID Connect). */
const redirectSignIns = z.strictObject({
  /**
   * Sign-in starts (`GET /saml/<id>/login`, `/sso/<id>/login`) and answers (SAML responses,
   * OpenID Connect callbacks) one client address may make per minute at one source, each step
   * counted on its own, in the store so every gateway shares the count. Each start stores a
   * pending sign-in; each answer costs a SAML worker or a request to the provider. Default 60.
   * Behind a reverse proxy set `server.trustProxy`, or every client counts as the proxy.
   */
  perIpPerMinute: z.number().int().min(1).max(100_000).default(60),
});

const auth = z.strictObject({
  /**
   * Allow `POST /api/v1/login` with a password. Off: the API takes PATs only, so a
   * stolen password alone opens no API session; web sign-in is unaffected.
   */
  passwordApiLogin: z.boolean().default(true),
  /** Lifetime of the access token `POST /api/v1/login` returns. Short: it cannot be narrowed. */
  accessTokenTtl: duration('5m'),
  /** Lifetime of the login refresh token; each use rotates it. */
  refreshTokenTtl: duration('30d'),
  lockout: lockout.default(lockout.parse({})),
  redirectSignIns: redirectSignIns.default(redirectSignIns.parse({})),
});

const passwords = z.strictObject({
  /**
   * scrypt cost N (power of two). 32768 with r=8 uses 32 MiB and ~100 ms per hash on one core:
   * memory-hard, so GPUs gain little. Lower only for tests.
   */
  scryptCost: z.number().int().min(1024).max(1 << 20).default(32768).refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
  /** Minimum length for new local passwords. */
  minLength: z.number().int().min(1).default(10),
});

const creators = z.strictObject({
  /** Roles whose members may create tokens for themselves. Admins always may. */
  roles: z.array(role).default(['admin', 'normal']),
  /** Directory/IdP groups whose members may create tokens even if their role is not listed (names compare case-insensitively). */
  groups: z.array(z.string()).default([]),
});

const tokens = z.strictObject({
  /** Hard-expiry lifetime when a request gives none. */
  defaultTtl: duration('30d'),
  /** Longest hard-expiry lifetime anyone may ask for. */
  maxTtl: duration('365d'),
  /** Sliding ("auto-refresh") window when a request gives none. */
  defaultSlidingWindow: duration('7d'),
  /** Absolute cap of a sliding token when a request gives none; bounded by maxTtl too. */
  defaultMaxLifetime: duration('90d'),
  /**
   * Longest grace period a rotation may give the old secret (`"grace": "1h"`): until then both
   * secrets work, so a deployment can switch over without an outage. Rotations ask for it; none
   * is the default, and the old secret then stops at once.
   */
  rotationGraceMax: duration('7d'),
  /** Active tokens one user may hold. */
  maxPerUser: z.number().int().min(1).max(10_000).default(50),
  /** At the limit: `evict` revokes the oldest active token (a script that mints a token per run keeps working), `refuse` answers 409. */
  onLimit: z.enum(['evict', 'refuse']).default('evict'),
  /** How long revoked and expired token records stay listable for audit before Redis drops them. */
  auditRetention: duration('30d'),
  /**
   * Last use of a token is recorded to this precision: a check from the IP already recorded less
   * than this after the recorded use writes nothing (no Redis write, AOF or replication traffic
   * per check). A new IP is always recorded. `0s` records every check.
   */
  lastUsedPrecision: duration('60s'),
  /** Who may create tokens for themselves, besides admins: by role or by directory group. */
  creators: creators.default(creators.parse({})),
  /**
   * Accept personal-access-token scopes that are not in the top-level `scopes:` list. Unset: true
   * when no `scopes:` are configured (free-text scopes, as before vocabularies existed), false
   * once some are, so a typo such as `--scope admn` is refused instead of silently issued.
   */
  allowUndeclaredScopes: z.boolean().optional(),
});

/** One scope of the declared vocabulary (`scopes:`). */
const declaredScope = z.strictObject({
  /**
   * The scope, or a pattern: `<id>` stands for one identifier, `a|b` for one of the alternatives,
   * e.g. `resource:<id>:r|w|rw` declares every resource scope.
   */
  name: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/, 'a scope has no spaces, quotes or backslashes (RFC 6749 §3.3)'),
  /** Shown next to the scope's checkbox on the token page and by `tessera scope list`. */
  description: z.string().min(1).max(300),
});

const grantType = z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']);

/**
 * One registry for every OAuth client: web apps and CLIs that sign users in through the OpenID
 * Provider, services using client credentials, and downstream APIs that call introspection.
 */
const client = z
  .strictObject({
    /** client_id. */
    id: z.string().min(1).max(200),
    /** Display name on the consent page. */
    name: z.string().optional(),
    /** Plain secret (confidential clients); write `${ENV_VAR}` to read it from the environment. */
    secret: z.string().min(16).optional(),
    /**
     * Or a scrypt hash made by `node scripts/hash-secret.mjs`, verified once per process and then
     * remembered. Only for clients that just call introspection/revocation: oidc-provider needs
     * the plain secret for its own grants.
     */
    secretHash: z.string().startsWith('scrypt$').optional(),
    /** A public client (CLI, SPA, device): no secret, PKCE S256 required. */
    public: z.boolean().default(false),
    /** Exact redirect URIs for the authorization code flow (no wildcards, RFC 9700 §2.1). */
    redirectUris: z.array(z.url()).default([]),
    postLogoutRedirectUris: z.array(z.url()).default([]),
    /** Grants the client may use. No implicit, no password grant: both are deprecated (RFC 9700). */
    grantTypes: z.array(grantType).optional(),
    /** First-party clients skip the consent page. */
    firstParty: z.boolean().default(false),
    /** May introspect personal access tokens (a resource server behind Tessera). */
    resourceServer: z.boolean().default(false),
    /**
     * Resource indicators (RFC 8707) this client serves: it may introspect provider access tokens
     * issued for them, besides tokens issued to itself.
     */
    resources: z.array(z.string()).default([]),
    /** May manage Shared Signals streams and receive their events (an SSF receiver, docs/signals.md). */
    ssf: z.boolean().default(false),
    /**
     * Resource indicators (RFC 8707) this client may obtain access tokens for, at any grant.
     * Default none: a client gets OIDC scopes only until its entry lists an API, so adding a
     * client or a resource never widens what an existing client can get (`invalid_target`).
     */
    allowedResources: z.array(z.string()).default([]),
    /**
     * Resource scopes this client may obtain (of the resources above), and the scopes it may ask
     * for when it authenticates at a workload token exchange. OIDC scopes (openid, profile,
     * email, groups, offline_access) need no listing. Others are refused with `invalid_scope`.
     */
    allowedScopes: z.array(z.string()).default([]),
  })
  .refine((c) => c.public || Boolean(c.secret) !== Boolean(c.secretHash), 'give exactly one of secret, secretHash (or public: true)')
  .refine((c) => !c.public || (!c.secret && !c.secretHash), 'a public client has no secret')
  // oidc-provider needs the plain secret to authenticate a client: a `secretHash` client is not
  // one of its clients, so it can neither obtain provider tokens nor introspect those of an API.
  .refine((c) => !c.secretHash || (!c.resources.length && !c.allowedResources.length), 'a secretHash client cannot serve or obtain provider tokens (resources, allowedResources): give it a plain secret');

/** An API that OAuth access tokens can be issued for (RFC 8707 resource indicator). */
const resource = z.strictObject({
  /** The resource indicator, an absolute URI, e.g. https://api.example.org. */
  indicator: z.url(),
  /** Scopes of this API that clients may request. */
  scopes: z.array(z.string()).default([]),
  /** `jwt`: RFC 9068 JWT access tokens that the API can verify offline against JWKS; `opaque`: introspect them. */
  accessTokenFormat: z.enum(['jwt', 'opaque']).default('opaque'),
  /** Access token lifetime for this API. */
  accessTokenTtl: duration('1h'),
});

const deviceCodeGuesses = z.strictObject({
  perBrowser: z.number().int().positive().default(5),
  perIp: z.number().int().positive().default(10),
  perGateway: z.number().int().positive().default(100),
  window: duration('15m'),
});

const oidc = z.strictObject({
  /**
   * Keys that sign the provider's cookies (newest first, rotate by prepending). Unset: a key is
   * generated once and kept in the store, so every gateway instance shares it.
   */
  cookieKeys: z.array(z.string().min(32)).optional(),
  /** Lifetimes of provider tokens. */
  accessTokenTtl: duration('1h'),
  idTokenTtl: duration('1h'),
  refreshTokenTtl: duration('14d'),
  authorizationCodeTtl: duration('60s'),
  deviceCodeTtl: duration('10m'),
  sessionTtl: duration('14d'),
  /** How long a retired signing key stays in JWKS after rotation: longer than any token it signed. */
  keyRetirement: duration('2d'),
  /**
   * The built-in public client `tessera-cli` (`tessera login --sso`, device flow). Its tokens act
   * as a full login, so an admin talked into approving an attacker's code hands over everything.
   * `false` removes the client (the device flow refuses it); `{ admins: false }` keeps it for
   * everyone but admins, who then sign in to the CLI with a password or a PAT.
   */
  cliClient: z.union([z.boolean(), z.strictObject({ admins: z.boolean().default(true) })]).default(true),
  /**
   * Wrong user codes on the device verification page (RFC 8628 §5.1): how many each browser,
   * each IP address and the whole gateway may enter per `window` before the page stops looking
   * codes up until the window ends. A code has ~34 bits, so these limits make guessing hopeless.
   */
  deviceCodeGuesses: deviceCodeGuesses.default(deviceCodeGuesses.parse({})),
  /**
   * How long a rotated-in signing (and cookie) key is published before any instance signs with
   * it. Every instance hears of a rotation at once over Redis pub/sub and polls every 30 s in
   * case it missed that, so this must exceed 30 s for a token signed anywhere to verify
   * everywhere; relying parties that cache JWKS are served too when it exceeds their cache time.
   * `0s` makes a new key sign at once: only safe with a single gateway instance.
   */
  keyActivationDelay: duration('2m').refine((ms) => ms === 0 || ms > 30_000, 'must be 0s (one gateway instance only) or more than 30s, the interval at which instances poll for new keys'),
});

const web = z.strictObject({
  /** How long a browser sign-in lasts. The session cookie is HttpOnly and SameSite=Lax. */
  sessionTtl: duration('12h'),
});

const audit = z.strictObject({
  /**
   * How long audit events are kept (the store trims older ones). Independent of
   * `tokens.auditRetention`: a revoked token's record goes after that, its history stays this long.
   * 90 days covers a quarterly access review; SIEMs keep longer from the log stream.
   */
  retention: duration('90d'),
});

const log = z.strictObject({
  /**
   * Least severe level written. `info` logs one access line per request plus start-up, shutdown
   * and operator warnings; `debug` adds detail for troubleshooting. Env LOG_LEVEL overrides.
   */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * `json`: one JSON object per line, for log shippers. `pretty`: coloured lines for a human at a
   * terminal. Default: pretty when stdout is a terminal, else json. Env LOG_FORMAT overrides.
   */
  format: z.enum(['json', 'pretty']).optional(),
});

const metrics = z.strictObject({
  /**
   * Bearer secret that opens `GET /metrics` on the main listener (`Authorization: Bearer <token>`);
   * write `${ENV_VAR}` to read it from the environment. Unset: `/metrics` on the main listener
   * answers 404, because request counts per route and user totals are reconnaissance material.
   */
  token: z.string().min(16).optional(),
  /**
   * `host:port` of a separate listener that serves `/metrics` without authentication, for a
   * scraper on a private network (e.g. `127.0.0.1:9464`, or a pod IP with a NetworkPolicy).
   */
  listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port').optional(),
});

export const configSchema = z.strictObject({
  server: server.default(server.parse({})),
  store: store.default(store.parse({})),
  auth: auth.default(auth.parse({})),
  passwords: passwords.default(passwords.parse({})),
  tokens: tokens.default(tokens.parse({})),
  /** OAuth clients: OIDC relying parties, service accounts, and resource servers that introspect. */
  clients: z.array(client).default([]).refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'client ids must be unique'),
  /** APIs that provider access tokens can be issued for. */
  resources: z.array(resource).default([]),
  /** The declared scope vocabulary of personal access tokens (README: Scopes). */
  scopes: z.array(declaredScope).default([]).refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'scope names must be unique'),
  /** The OpenID Provider. */
  oidc: oidc.default(oidc.parse({})),
  /** Identity sources, one list per kind (`ldap`, `saml`, `openidConnect`): identity/source-kinds.ts. */
  ...sourceConfigs,
  /** What checking one posted SAML response may cost, for every SAML source (docs/saml-okta.md). */
  samlLimits: samlLimitsSchema.default(samlLimitsSchema.parse({})),
  /** The web pages (sign-in, tokens, admin). */
  web: web.default(web.parse({})),
  /** Text shown above the web sign-in form (a legal notice or usage policy). */
  loginBanner: z.string().optional(),
  /** The audit trail: who did what, from where (README: Audit trail). */
  audit: audit.default(audit.parse({})),
  /** Structured logs on stdout. */
  log: log.default(log.parse({})),
  /** Prometheus metrics. */
  metrics: metrics.default(metrics.parse({})),
  /** CI jobs and clusters that trade their signed identity tokens for short-lived Tessera tokens (docs/workload-identity.md). */
  workloadIdentity: workloadIdentitySchema.default(workloadIdentitySchema.parse({})),
  /** Signed reports of leaked Tessera tokens (GitHub secret scanning), which revoke them (docs/workload-identity.md). */
  leakReports: leakReportsSchema.default(leakReportsSchema.parse({})),
  /** Delivery of Shared Signals (SSF) and webhooks: retries, leases, bounds (docs/signals.md). */
  signals: signalsSchema.default(signalsSchema.parse({})),
  /** Endpoints that get events as signed webhooks (docs/signals.md). */
  webhooks: webhooksSchema,
  /** Notices to token owners before their tokens expire (docs/signals.md). */
  notifications: notificationsSchema.default(notificationsSchema.parse({})),
}).superRefine((c, ctx) => {
  checkSourceIdsUnique(c, ctx);
  // An allow-list naming an API that does not exist is a typo that would silently allow nothing.
  const indicators = new Set(c.resources.map((r) => r.indicator));
  c.clients.forEach((client, i) => {
    client.allowedResources.forEach((r, j) => {
      if (!indicators.has(r)) ctx.addIssue({ code: 'custom', message: `${r} is not one of resources[].indicator`, path: ['clients', i, 'allowedResources', j] });
    });
  });
});

export type TesseraConfig = z.output<typeof configSchema>;
export type ClientConfig = TesseraConfig['clients'][number];
export type ResourceConfig = TesseraConfig['resources'][number];
export type Role = z.infer<typeof role>;
