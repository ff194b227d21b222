/**
 * The one storage seam. Two implementations: `RedisStore` (production, shared by every gateway
 * process) and `MemoryStore` (the embedded default, tests). Both pass `test/store/contract.ts`.
 *
 * The interface is shaped by the hot path, not by a generic key-value API: `useToken` and
 * `useAccessToken` answer a bearer check in one round trip (Redis: one Lua script doing lookup,
 * owner check, sliding refresh and last-used together). Everything a user owns lives under that
 * user's id, which tokens carry, so on Redis Cluster it all hashes to one slot.
 *
 * Times are milliseconds since the epoch and always come from the caller (an injectable clock),
 * never from the store, so expiry rules are testable without sleeping.
 *
 * Errors: `Conflict`, `NotFound` for domain conflicts; `TemporarilyUnavailable` when the backing
 * service is unreachable or slow. A store never answers "active" when it could not check.
 */
import type { SessionRecord, TokenRecord, UserRecord } from './records.js';
import type { AuditEntry, AuditRange } from './audit-entries.js';

export type { SessionRecord, TokenRecord, UserRecord } from './records.js';
export type { AuditEntry, AuditRange } from './audit-entries.js';
import type { OutboxAddResult, OutboxItem } from './outbox.js';
export type { OutboxAddResult, OutboxItem } from './outbox.js';
import type { UserPage, UserPageQuery } from './user-pages.js';
export type { UserPage, UserPageQuery } from './user-pages.js';
import type { TransientValue } from './short-lived.js';
export type { TransientValue } from './short-lived.js';

export interface TokenLimit {
  /** Active (not revoked, not expired) tokens a user may hold after the insert. */
  max: number;
  /** `evict`: revoke the oldest active ones to make room; `refuse`: throw `Conflict`. */
  onLimit: 'evict' | 'refuse';
}

/** One page of a user's tokens (`listTokenPage`). */
export interface TokenPageQuery {
  /** Records per page, 1..1000. */
  limit: number;
  /** The `next` of the previous page; undefined: the first page. */
  cursor?: string;
  /** Which retained records to list after the active ones (none: active only). */
  include: { revoked: boolean; expired: boolean };
}

export interface TokenPage {
  tokens: TokenRecord[];
  /** Where the next page starts; absent on the last page. */
  next?: string;
}

/** What a successful bearer check returns: the (updated) record and its owner. */
export interface TokenUse {
  token: TokenRecord;
  user: UserRecord;
}

export interface SessionUse {
  session: SessionRecord;
  user: UserRecord;
  /** Expiry of the presented access token (ms). */
  accessExpiresAt: number;
}

export type RefreshOutcome =
  | { outcome: 'ok'; session: SessionRecord }
  /** A refresh token that was already rotated: the whole session is now revoked. */
  | { outcome: 'reused' }
  | { outcome: 'invalid' };

/** An oidc-provider model instance, as the provider hands it over (JSON-able). */
export type ProviderPayload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number };

/** A provider Grant of one account with the records issued under it (tokens, codes), as stored. */
export interface ProviderGrantRecords {
  id: string;
  grant: ProviderPayload;
  /** The grant's live tokens and codes (each payload carries its `kind`, e.g. `RefreshToken`). */
  members: ProviderPayload[];
}

export interface Counter {
  count: number;
  /** Time left in the window, ms (0 when the counter does not exist). */
  ttlMs: number;
}

export interface Store {
  // ---- users -------------------------------------------------------------------------------
  /** Throws `Conflict` when the username is taken. */
  createUser(user: UserRecord): Promise<void>;
  getUser(id: string): Promise<UserRecord | null>;
  findUserByName(username: string): Promise<UserRecord | null>;
  /** Replaces the record (same id and username). Throws `NotFound`. */
  putUser(user: UserRecord): Promise<void>;
  /** Removes the user and revokes (marks) all their tokens, revokedBy = `by`. */
  deleteUser(id: string, by: string, now: number): Promise<void>;
  /**
   * One page of users in index order (`usernameKey`, then id, byte order), optionally only names
   * starting with `prefix`. Costs O(the page): a job or request never holds the store for a time
   * that grows with the number of users. A page may hold fewer than `limit` users and still have
   * a `next` (an index entry whose user is gone is skipped); follow `next` until it is absent.
   * Every user that exists for the whole walk is met exactly once. Throws `InvalidRequest` for a
   * cursor it did not hand out or a limit outside 1..1000.
   */
  listUserPage(query: UserPageQuery): Promise<UserPage>;

  // ---- personal access tokens ----------------------------------------------------------------
  /**
   * Stores a new token, atomically enforcing the per-user limit (holds under concurrent inserts).
   * Returns the ids evicted to make room; throws `Conflict` at the limit with `refuse`.
   */
  insertToken(token: TokenRecord, limit: TokenLimit, now: number): Promise<{ evicted: string[] }>;
  getToken(userId: string, id: string): Promise<TokenRecord | null>;
  /**
   * Every record still kept (active, expired or revoked within the audit retention), oldest first.
   * O(all records): for exports, leak reports and the admin's page of one user. Not a snapshot (the
   * Redis store reads it a bounded page at a time): a token revoked meanwhile is listed once, in
   * either state.
   */
  listTokens(userId: string, now: number): Promise<TokenRecord[]>;
  /**
   * One page of the user's tokens: the active ones oldest first (createdAt, then id), then, if
   * asked for, the retained ones (revoked or expired, still within the audit retention) in the
   * order they will be forgotten. Costs O(the page), never O(records kept for audit): retained
   * records are stored apart from the active ones. A page may hold fewer than `limit` records
   * and still have a `next` (a filtered walk stops after a bounded number of records); follow
   * `next` until it is absent. Throws `InvalidRequest` for a cursor it did not hand out.
   */
  listTokenPage(userId: string, query: TokenPageQuery, now: number): Promise<TokenPage>;
  /** Changes name/description only. Returns null when the token does not exist. */
  updateToken(userId: string, id: string, patch: { name?: string; description?: string }): Promise<TokenRecord | null>;
  /**
   * Brings an active token's end forward to `until` (never later than it already ends; a sliding
   * token's maximum lifetime too, so use cannot slide it past `until`): a rotation's grace period.
   * A revoked or expired token is returned unchanged; null when it does not exist.
   */
  shortenTokenExpiry(userId: string, id: string, until: number, now: number): Promise<TokenRecord | null>;
  /** Marks the token revoked (idempotent: an already revoked one is returned unchanged). */
  revokeToken(userId: string, id: string, by: string, now: number): Promise<TokenRecord | null>;
  /** RFC 7009 path: revoke by secret hash. Returns whether a token was found. */
  revokeTokenByHash(userId: string, hash: string, by: string, now: number): Promise<boolean>;
  /**
   * The id of the token with this secret hash, in one read, as `revokeTokenByHash` would find it:
   * null once revoked (Redis also drops the hash at expiry, as it expires the key).
   */
  findTokenIdByHash(userId: string, hash: string): Promise<string | null>;
  /**
   * Revokes every active token of the user. Returns how many. Not atomic as a whole: the Redis
   * store revokes a bounded step of tokens per call, so no call holds Redis for O(active tokens);
   * each step is atomic and replicated, and success is reported only once no active token is
   * left. Callers that need every token void at one instant stamp the owner's
   * `credentialsNotBefore` first, as revocation.ts does (one write the hot path already reads).
   */
  revokeUserTokens(userId: string, by: string, now: number): Promise<number>;
  /**
   * The hot path. Finds the token by secret hash and, only if it is active and its owner exists
   * and is enabled: slides a sliding expiry (never past `maxLifetimeAt`), records last use, and
   * returns the updated record. Anything else returns null and changes nothing.
   * Last use is kept to the store's `lastUsedPrecisionMs` (config `tokens.lastUsedPrecision`): a
   * check from the IP already recorded, less than that after the recorded use, writes nothing and
   * returns the record as stored (a sliding expiry then moves at that precision too, never later
   * than exact). A check from a new IP is always recorded.
   */
  useToken(userId: string, hash: string, now: number, ip: string): Promise<TokenUse | null>;

  // ---- login sessions (POST /api/v1/login) ---------------------------------------------------
  createSession(session: SessionRecord, accessHash: string, accessExpiresAt: number): Promise<void>;
  /** Bearer check for a login access token: active session, owner enabled, not before `sessionsNotBefore`. */
  useAccessToken(userId: string, accessHash: string, now: number): Promise<SessionUse | null>;
  /**
   * Rotates the refresh token: the presented one must be the session's current one. A previously
   * rotated one revokes the session (reuse detection, RFC 9700 §4.14.2).
   */
  rotateRefreshToken(
    userId: string,
    refreshHash: string,
    next: { refreshHash: string; accessHash: string; accessExpiresAt: number },
    now: number,
  ): Promise<RefreshOutcome>;
  /** Finds the session a refresh token belongs to (any rotation), without changing anything. */
  findSessionByRefresh(userId: string, refreshHash: string): Promise<SessionRecord | null>;
  revokeSession(userId: string, sessionId: string, now: number): Promise<void>;
  /** Revokes every login session (API and browser) of the user still running at `now`. Returns how many. */
  revokeUserSessions(userId: string, now: number): Promise<number>;
  /** The user's login sessions running at `now` (not revoked, not ended), oldest first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;

  // ---- throttling -----------------------------------------------------------------------------
  /**
   * Adds `by` (default 1) to a windowed counter and returns the new count, atomically; the
   * window starts at the first hit. A negative `by` takes back (never below 0, never creates).
   */
  hitCounter(key: string, windowMs: number, now: number, by?: number): Promise<Counter>;
  getCounter(key: string, now: number): Promise<Counter>;
  deleteCounter(key: string): Promise<void>;

  // ---- OpenID Provider state (oidc-provider's adapter: src/oauth/adapter.ts) ------------------
  /**
   * Stores one provider model instance (AccessToken, Session, Interaction, ...) for `ttlSeconds`
   * (undefined: no expiry), indexed by its `grantId`, `userCode` and `uid` when present. Each
   * write touches single keys only, so it works unchanged on Redis Cluster.
   */
  providerUpsert(model: string, id: string, payload: ProviderPayload, ttlSeconds?: number): Promise<void>;
  providerFind(model: string, id: string): Promise<ProviderPayload | null>;
  /** DeviceCode by `userCode`, Session by `uid`. */
  providerFindBy(model: string, index: 'userCode' | 'uid', value: string): Promise<ProviderPayload | null>;
  /**
   * Marks a code or token used (`consumed` = epoch seconds), keeping its expiry. Atomic: returns
   * true only to the one caller that consumed it (false if already used or gone), so two
   * requests racing with the same code or refresh token cannot both succeed.
   */
  providerConsume(model: string, id: string, consumedAt: number): Promise<boolean>;
  providerDestroy(model: string, id: string): Promise<void>;
  /** Removes every token and code of a grant (refresh token reuse, consent revoked). */
  providerRevokeByGrantId(grantId: string): Promise<void>;
  /**
   * Ends everything the provider holds for an account: each Grant with all its tokens and codes
   * (access, refresh, device codes), and each provider Session (its single sign-on cookie).
   * Returns how many grants and sessions existed.
   */
  providerRevokeByAccountId(accountId: string): Promise<{ grants: number; sessions: number }>;
  /**
   * The account's live Grants, each with its live tokens and codes, read only: what the user's
   * list of sign-ins shows for relying parties and the CLI's SSO login.
   */
  providerGrantsOfAccount(accountId: string): Promise<ProviderGrantRecords[]>;

  // ---- settings shared by every gateway instance (signing keys, cookie keys) ----------------
  getSetting(name: string): Promise<string | null>;
  /** Sets `name` only if it is unset; returns the value in force afterwards (first writer wins). */
  initSetting(name: string, value: string): Promise<string>;
  setSetting(name: string, value: string): Promise<void>;
  /**
   * Optimistic concurrency for read-modify-write of a setting (key rotation): sets `name` to
   * `value` only if it still holds `expected` (null: unset), atomically. Returns whether it did;
   * a caller that lost the race reads again and retries, so no concurrent update is lost.
   * A successful write notifies `watchSettings` listeners of every instance.
   */
  compareAndSetSetting(name: string, expected: string | null, value: string): Promise<boolean>;
  /**
   * Calls `listener(name)` soon after any instance changed a setting with `compareAndSetSetting`
   * (Redis pub/sub). Best effort: a notification lost while disconnected is not replayed, so
   * callers keep polling as a fallback. Resolves once subscribed; the result unsubscribes.
   */
  watchSettings(listener: (name: string) => void): Promise<() => Promise<void>>;

  // ---- audit trail (audit-entries.ts) --------------------------------------------------------
  /**
   * Appends one audit event (JSON) at `now` and returns its entry id. With `replaces`, that entry
   * is removed in the same atomic step (an "attempted" event becoming its outcome). Entries older
   * than `now - retentionMs` are dropped. Ids grow: a `now` before the newest entry takes its time.
   */
  auditAppend(event: string, now: number, retentionMs: number, replaces?: string): Promise<string>;
  /** Entries newest first within the range (ids from `auditAppend`). */
  auditRead(range: AuditRange): Promise<AuditEntry[]>;

  // ---- outbox: durable delivery queues and delivery logs (outbox.ts; used by signals/) -----
  /** Queues `id` due at `dueAt`, unless it is queued already or the queue holds `max` items. */
  outboxAdd(queue: string, id: string, payload: string, dueAt: number, max: number): Promise<OutboxAddResult>;
  /**
   * Claims up to `count` items due at `now` (oldest due first): each is due again at
   * `now + leaseMs` and its attempts grow by one, atomically, so concurrent claimers never get
   * the same item within a lease.
   */
  outboxClaim(queue: string, now: number, leaseMs: number, count: number): Promise<OutboxItem[]>;
  /** Removes items (delivered, acknowledged or given up). Returns how many existed. */
  outboxRemove(queue: string, ids: string[]): Promise<number>;
  /** Makes a still queued item due at `dueAt` (a retry after back-off). */
  outboxDefer(queue: string, id: string, dueAt: number): Promise<void>;
  /** Up to `count` items in due order, without claiming them (poll delivery). */
  outboxPeek(queue: string, count: number): Promise<OutboxItem[]>;
  outboxSize(queue: string): Promise<number>;
  /** Prepends an entry to a log kept to its newest `max` entries. */
  deliveryLogPush(log: string, entry: string, max: number): Promise<void>;
  /** Newest first. */
  deliveryLogRead(log: string, count: number): Promise<string[]>;

  // ---- short-lived state with a meaning of its own (short-lived.ts) ----------------------------
  // Each operation touches one key, so it works unchanged on Redis Cluster. Every write is
  // acknowledged once replicated: a lost claim would let a replay through, a lost marker or
  // value would forget what a later decision depends on. `ttlMs` is a positive integer; a
  // malformed key, kind or ttl throws `RangeError` and stores nothing.
  /**
   * "Used once": true for the first caller only; every later call until `now + ttlMs`, even a
   * concurrent one, gets false. For replay caches (SAML assertion IDs, workload `jti`),
   * one-time steps (a pending sign-in answered once) and "at most once per period" (a poll
   * within the interval, one expiry notice per threshold).
   */
  claimOnce(key: string, ttlMs: number, now: number): Promise<boolean>;
  /** A flag that holds until `now + ttlMs` or `clearMarker` (setting it again restarts the time). */
  setMarker(key: string, ttlMs: number, now: number): Promise<void>;
  hasMarker(key: string, now: number): Promise<boolean>;
  clearMarker(key: string): Promise<void>;
  /**
   * A JSON value of `kind` under `id`, kept until `now + ttlMs` (replaced when put again):
   * state of a step in progress that any gateway instance may finish (a pending sign-in), or a
   * value kept for a bounded time (an upstream refresh token). Read back as JSON, so only
   * JSON-able fields survive. `kind` is lower-case letters, digits and dashes.
   */
  putTransient(kind: string, id: string, value: TransientValue, ttlMs: number, now: number): Promise<void>;
  /** The value, left in place; null when absent or expired. */
  peekTransient(kind: string, id: string, now: number): Promise<TransientValue | null>;
  /** The value, removed in the same atomic step: of concurrent takers only one gets it. */
  takeTransient(kind: string, id: string, now: number): Promise<TransientValue | null>;

  // ---- lifecycle ------------------------------------------------------------------------------
  /** Throws `TemporarilyUnavailable` when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---- durability (a capability of stores that can lose data behind our back: Redis) ----------

/**
 * What a store found wrong with its own durability. `fatal`: data can silently disappear (Redis
 * may evict keys): the gateway refuses to start and /readyz answers 503. `warning`: data is at
 * risk on a crash (no persistence). `unverified`: the store could not look (managed Redis without
 * CONFIG), so the operator must make sure. Every message names the setting and the fix.
 */
export interface DurabilityFinding {
  level: 'fatal' | 'warning' | 'unverified';
  /** Which server, e.g. `127.0.0.1:6379`. */
  node: string;
  /** The server setting concerned, e.g. `maxmemory-policy`. */
  setting: string;
  message: string;
}

/**
 * Replicated acknowledgement: a store with replicas confirms every write that grants or takes
 * away access (token and session creation; revocations, disables, password changes, deletions)
 * only once the replicas have it, and throws `TemporarilyUnavailable` when they do not confirm
 * in time. The write has still been applied on the primary and may or may not survive a
 * failover, so the caller is told "not done" and retries: every such write is idempotent. The
 * price is one replication round trip on those writes; the bearer check (`useToken`,
 * `useAccessToken`, their sliding expiry and last-used writes) never waits, because losing a
 * last-used time takes no access away.
 */
export interface DurabilityChecks {
  /** Looks at the server settings that decide whether acknowledged data can be lost. */
  checkDurability(): Promise<DurabilityFinding[]>;
  /** A cheap write on a key of its own: throws `TemporarilyUnavailable` when writes are refused (e.g. OOM). */
  probeWrite(): Promise<void>;
}

export const hasDurabilityChecks = (store: Store): store is Store & DurabilityChecks =>
  typeof (store as Partial<DurabilityChecks>).checkDurability === 'function';
