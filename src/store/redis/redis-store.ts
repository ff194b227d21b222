/**
 * The production store: all state in Redis (standalone or Cluster, Redis >= 6.2 for SET PXAT),
 * shared by every gateway process. Held to the same contract as `MemoryStore`
 * (test/store/contract.ts), whose behaviour is the specification.
 *
 * Key layout (`P` = the configured key prefix, `U` = a user id):
 *
 *   P{U}:user        user record (JSON)                                   no expiry
 *   P{U}:tokens      sorted set: active token ids, score createdAt      no expiry (a token that
 *                                                                          stops being active moves
 *                                                                          to `retained` when seen)
 *   P{U}:expiry      sorted set: the same active ids, score expiresAt   no expiry (finds expired
 *                                                                          ones without reading all)
 *   P{U}:retained    sorted set: revoked/expired token ids kept for audit, score = record expiry
 *                                                                          (pruned by score; expires
 *                                                                          after deleteUser)
 *   P{U}:t:<id>      token record, hash of one-letter fields  PXAT (revokedAt ?? expiresAt) + audit retention
 *                    (token-fields.ts; a hash with a hex `h`, or a JSON string, when written by
 *                    an earlier version)
 *   P{U}:hashes      hash: first 11 chars of a secret's        PXAT the latest expiresAt of its tokens;
 *                    SHA-256 in base64url → token id, active   a token leaves it when revoked or retired
 *                    tokens only (a field of the first 16 hex chars when an earlier version wrote it)
 *   P{U}:h:<hash>    SHA-256 of the secret → token id, as earlier versions wrote it (read, then
 *                    removed when the token's record is migrated)
 *   P{U}:s:<sid>     login session record (JSON)              PXAT session expiresAt
 *   P{U}:a:<hash>    login access token → JSON {sid, exp}     PXAT exp
 *   P{U}:r:<hash>    refresh token hash → sid, every rotation PXAT session expiresAt (reuse detection)
 *   P{U}:sessions    sorted set: sid, score session expiresAt PXAT the latest session end
 *   Pusers           hash: usernameKey(username) → user id    global (see `upgradeUsernameIndex`
 *                                                             for fields written before names were
 *                                                             compared ignoring case)
 *   Puser-order      sorted set: `<Pusers field>\0<user id>` at score 0, the listing order
 *                                                             (user-order.ts)          global
 *   Pc:<key>         counter, hash {n: count, r: resetAt}     PXAT resetAt
 *   Po:<Model>:<id>  oidc-provider record, hash {p: JSON, c: consumed}   EX the model's TTL
 *   Po:g:<grantId>   set of the record keys of one grant      EX the longest member's TTL
 *   Po:<Model>:userCode:<code>, Po:<Model>:uid:<uid>  → id    EX the record's TTL
 *   Po:a:<accountId> set of `Grant:<id>` / `Session:<id>` of one account   EX the longest member's TTL
 *   Pset:<name>      shared settings (signing keys, cookie keys)          no expiry
 *   Pclaim:<key>, Pmark:<key>, Ptr:<kind>:<id>   claims, markers, transient values (short-lived.ts)
 *   Paudit           Stream of audit events (audit-stream.ts)             trimmed by MINID on append
 *   P{ob:<q>}:z/p/a, Pdl:<log>   outbox queues and delivery logs (outbox.ts)
 *   Psettings        pub/sub channel: name of a setting just changed (settings-channel.ts)
 *
 * Provider records are written with single-key commands only (no MULTI, no Lua), so they need
 * no hash tags on Cluster: each key lands wherever it hashes. A grant's members are deleted one
 * by one; a failure part-way leaves some tokens of a revoked grant, which the next revoke
 * (or their short TTL) removes.
 *
 * `{U}` is a Redis Cluster hash tag: everything a user owns sits in one slot, so each Lua script
 * (scripts.ts) can touch all of it atomically. Scripts build the keys they compute from the same
 * `P{U}:` base. The username index is global (another slot), so createUser and deleteUser are two
 * steps, ordered so that a failure in between never leaves the index pointing at a live user who
 * does not own the name.
 *
 * Every read-modify-write is one script (atomic, one round trip); `useToken` and `useAccessToken`
 * are exactly one EVALSHA each (useToken: a second one, once per token, for a record an earlier
 * version wrote, which it migrates; and the owner's enabled/credentialsNotBefore checks made in
 * Node on the reply when the script wrote nothing, see USE_TOKEN). Plain reads (getUser, getToken, ...) are single commands.
 *
 * Failure: every Redis call goes through `call()`, which turns any failure — connection refused or
 * lost, a command not answered within `commandTimeoutMs`, an error reply — into
 * `TemporarilyUnavailable`, so a dead or slow Redis never yields an answer the store did not check.
 * How that stays fast is described at `createRedisClient` (redis-client.ts).
 *
 * Replicated acknowledgement (the rule: `DurabilityChecks` in store.ts; the mechanics:
 * replication.ts): every write that grants or takes away access goes through `replicated()`,
 * which sends it with a `WAIT` on a second connection. Scripts do so unless listed in
 * `UNREPLICATED` (the bearer checks); the plain-command writes (createUser, provider records,
 * settings) call `replicated()` themselves.
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { createRedisClient, type RedisConnectOptions } from './redis-client.js';
import { Conflict, NotFound, TemporarilyUnavailable } from '../../errors.js';
import type { Counter, DurabilityChecks, DurabilityFinding, ProviderGrantRecords, ProviderPayload, RefreshOutcome, SessionUse, Store, TokenLimit, TokenPage, TokenPageQuery, TokenUse } from '../store.js';
import { checkRedis, connectedReplicas } from './checks.js';
import { ReplicaAcks } from './replication.js';
import type { SessionRecord, TokenRecord, UserRecord } from '../records.js';
import * as scripts from './scripts.js';
import { LIST_TOKEN_PAGE } from './token-pages.js';
import { HEX_FIELD_CHARS, HEX_HASH, decodeToken, encodeToken, fromFields, fromFlat, hash64, ipField, lookupField, type TokenReply } from './token-fields.js';
import { RedisUserOrder } from './user-order.js';
import type { UserPage, UserPageQuery } from '../user-pages.js';
import { MAX_PAGE, checkPageLimit, formatTokenCursor, parseTokenCursor } from '../token-cursor.js';
import { usernameKey } from '../usernames.js';
import type { AuditEntry, AuditRange } from '../audit-entries.js';
import { RedisAuditStream } from './audit-stream.js';
import { RedisOutbox } from './outbox.js';
import type { OutboxAddResult, OutboxItem } from '../outbox.js';
import * as settingsChannel from './settings-channel.js';
import { RedisShortLived } from './short-lived.js';
import type { TransientValue } from '../short-lived.js';

export type { RedisConnectOptions } from './redis-client.js';

export interface RedisStoreOptions {
  redis: Redis | Cluster;
  /** Prepended to every key, e.g. `tessera:`. Must not contain `{` or `}` (hash tags). */
  keyPrefix: string;
  /** How long revoked/expired token records stay listable (ms). */
  auditRetentionMs: number;
  /** `useToken` records last use to this precision (ms); default 0: every check writes. See store.ts. */
  lastUsedPrecisionMs?: number;
  /**
   * Upper bound for one Redis command: the client's own `commandTimeout` should be the same
   * (createRedisClient sets it), and on a Cluster the store enforces it itself as well (ioredis
   * does not time out commands queued while a Cluster is not ready). Default 1000 ms.
   */
  commandTimeoutMs?: number;
  /** Replicas that must confirm access-changing writes; default every replica seen (replication.ts). */
  replicaAcks?: number;
  /** How long those writes wait for replicas (on top of commandTimeoutMs). Default 500 ms. */
  replicaAckTimeoutMs?: number;
  log?: (line: string) => void;
}


/** Script name → [Lua, number of KEYS]. Registered on the client under `tessera<Name>`. */
const SCRIPTS = {
  useToken: [scripts.USE_TOKEN, 2],
  useOldToken: [scripts.USE_OLD_TOKEN, 2],
  insertToken: [scripts.INSERT_TOKEN, 1],
  listTokenPage: [LIST_TOKEN_PAGE, 2],
  updateToken: [scripts.UPDATE_TOKEN, 1],
  revokeToken: [scripts.REVOKE_TOKEN, 1],
  shortenTokenExpiry: [scripts.SHORTEN_TOKEN_EXPIRY, 1],
  revokeTokenByHash: [scripts.REVOKE_TOKEN_BY_HASH, 1],
  revokeUserTokens: [scripts.REVOKE_USER_TOKENS, 1],
  deleteUser: [scripts.DELETE_USER, 2],
  unindexUser: [scripts.UNINDEX_USER, 1],
  rekeyUsername: [scripts.REKEY_USERNAME, 1],
  putUser: [scripts.PUT_USER, 1],
  createSession: [scripts.CREATE_SESSION, 3],
  useAccessToken: [scripts.USE_ACCESS_TOKEN, 2],
  rotateRefreshToken: [scripts.ROTATE_REFRESH_TOKEN, 2],
  revokeSession: [scripts.REVOKE_SESSION, 1],
  hitCounter: [scripts.HIT_COUNTER, 1],
  revokeUserSessions: [scripts.REVOKE_USER_SESSIONS, 1],
} as const satisfies Record<string, readonly [string, number]>;

type ScriptName = keyof typeof SCRIPTS;

/**
 * Scripts whose writes are not held for replicas: the bearer checks (their sliding expiry and
 * last-used updates take no access away, and they are the hot path), listing (prunes only
 * expired members) and the login-failure counters. Every other script grants or takes away
 * access and is acknowledged only once replicated, including scripts added later: the safe default.
 */
const UNREPLICATED: ReadonlySet<string> = new Set<ScriptName>(['useToken', 'useOldToken', 'useAccessToken', 'listTokenPage', 'hitCounter']);
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/**
 * cjson (inside Redis) prints numbers with 14 significant digits. Every time that ends up in a
 * record a script re-encodes must be an integer below 1e14 ms (year 5138), or it would silently
 * change. Rejected loudly instead.
 */
const MAX_TIME = 1e14;
function checkTime(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0 || value >= MAX_TIME) {
    throw new RangeError(`${name} must be an integer number of ms in [0, 1e14), got ${value}`);
  }
}

/**
 * JSON for records that Lua decodes. cjson rejects a `\ud800`-style escape of a lone surrogate
 * (JSON.stringify writes those for ill-formed strings), which would make every script that reads
 * the record fail — for a token, every listing and insert of its owner. Such code units become
 * U+FFFD instead.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v));
}

/** A token whose strings read back as written: lone surrogates become U+FFFD, as in toJson. */
function wellFormed(token: TokenRecord): TokenRecord {
  return Object.fromEntries(Object.entries(token).map(([k, v]) => [k, typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v])) as unknown as TokenRecord;
}


/** A second client to the same deployment, same options, with a longer per-command timeout. */
function duplicateFor(redis: Redis | Cluster, commandTimeout: number): Redis | Cluster {
  if ((redis as Cluster).isCluster) {
    const cluster = redis as Cluster;
    return cluster.duplicate([], { redisOptions: { ...cluster.options.redisOptions, commandTimeout } });
  }
  return (redis as Redis).duplicate({ commandTimeout });
}

/**
 * Records one listTokenPage script call returns at most, and members it looks at at most (a
 * filtered walk skips some): ~4 µs per record read on the shared 2-core machine when quiet,
 * twice that at load 6, so a call stays at a few hundred µs whatever page size was asked for
 * (a page of 100 is four calls).
 */
const PAGE_CHUNK = 25;
/** Calls of one bounded-step operation (insertToken's 'again') before the store gives up. */
const MAX_STEP_CALLS = 100_000;
const PAGE_LOOK = 50;

const byCreation = (a: TokenRecord, b: TokenRecord): number => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

/** A user id can only be a hash tag if it has no braces; such an id cannot exist in the store. */
const taggable = (userId: string): boolean => userId.length > 0 && !/[{}]/.test(userId);

/** How many username index fields one HSCAN step of upgradeUsernameIndex asks for. */
const INDEX_SCAN_COUNT = 500;

export class RedisStore implements Store, DurabilityChecks {
  private readonly redis: Redis | Cluster;
  private readonly prefix: string;
  private readonly retention: number;
  private readonly lastUsedPrecision: number;
  private readonly timeoutMs: number;
  private readonly script: Record<ScriptName, ScriptFn>;
  /** Set at the first 'ready': from then on a client that is not ready means Redis is down. */
  private connectedOnce = false;
  private usernameIndexUpgrade?: Promise<void>;
  /** Old fields the upgrade had to leave under their exact spelling (see upgradeUsernameIndex). */
  private usernameClashes = 0;
  /** Connection for writes followed by WAIT, which blocks the connection it runs on. */
  private readonly acking: Redis | Cluster;
  private ackingConnectedOnce = false;
  private readonly replicas: ReplicaAcks;
  private readonly ackTimeoutMs: number;
  private readonly userOrder: RedisUserOrder;
  /** Whether `call()` must bound calls itself: only Cluster clients queue commands untimed. */
  private readonly ownDeadline: boolean;

  constructor(options: RedisStoreOptions) {
    if (/[{}]/.test(options.keyPrefix)) throw new RangeError('keyPrefix must not contain { or } (Redis Cluster hash tags)');
    if (options.redis.options.keyPrefix) {
      throw new RangeError('the ioredis client must not have its own keyPrefix: keys built inside Lua scripts would miss it');
    }
    checkTime('auditRetentionMs', options.auditRetentionMs);
    this.redis = options.redis;
    // A client built elsewhere without a commandTimeout gets the store's deadline too.
    this.ownDeadline = Boolean((options.redis as Cluster).isCluster) || typeof (options.redis as Redis).options.commandTimeout !== 'number';
    this.prefix = options.keyPrefix;
    this.retention = options.auditRetentionMs;
    checkTime('lastUsedPrecisionMs', options.lastUsedPrecisionMs);
    this.lastUsedPrecision = options.lastUsedPrecisionMs ?? 0;
    this.timeoutMs = options.commandTimeoutMs ?? 1000;
    this.connectedOnce = this.redis.status === 'ready';
    this.redis.on('ready', () => (this.connectedOnce = true));
    this.ackTimeoutMs = options.replicaAckTimeoutMs ?? 500;
    this.acking = duplicateFor(this.redis, this.timeoutMs + this.ackTimeoutMs);
    this.acking.on('error', () => {});
    this.acking.on('ready', () => (this.ackingConnectedOnce = true));
    this.replicas = new ReplicaAcks(this.acking, { required: options.replicaAcks, timeoutMs: this.ackTimeoutMs, log: options.log ?? (() => {}) });
    const client = this.redis as unknown as Record<string, ScriptFn>;
    const bound: Partial<Record<ScriptName, ScriptFn>> = {};
    for (const [name, [lua, numberOfKeys]] of Object.entries(SCRIPTS) as [ScriptName, readonly [string, number]][]) {
      const command = `tessera${name[0]!.toUpperCase()}${name.slice(1)}`;
      this.redis.defineCommand(command, { lua, numberOfKeys });
      bound[name] = (...args) => client[command]!(...args);
    }
    this.script = bound as Record<ScriptName, ScriptFn>;
    this.userOrder = new RedisUserOrder(this.redis, `${this.prefix}user-order`, this.usersKey, (what, run) => this.call(what, run), (id) => this.getUser(id));
  }

  /**
   * Builds the ioredis client (see `createRedisClient` for the fail-fast settings) and the store.
   * Does not wait for the connection: use `ping()` as the readiness check.
   */
  static connect(opts: RedisConnectOptions): RedisStore {
    return new RedisStore({
      redis: createRedisClient(opts),
      keyPrefix: opts.keyPrefix,
      auditRetentionMs: opts.auditRetentionMs,
      lastUsedPrecisionMs: opts.lastUsedPrecisionMs,
      commandTimeoutMs: opts.commandTimeoutMs,
      replicaAcks: opts.replicaAcks,
      replicaAckTimeoutMs: opts.replicaAckTimeoutMs,
      log: opts.log,
    });
  }

  // ---- keys ----------------------------------------------------------------------------------
  /** `P{U}:` — every per-user key starts with it; scripts get it as ARGV to build more keys. */
  private base(userId: string): string {
    return `${this.prefix}{${userId}}:`;
  }

  private get usersKey(): string {
    return `${this.prefix}users`;
  }

  /**
   * Runs one Redis interaction. Any failure or a reply slower than `commandTimeoutMs` becomes
   * `TemporarilyUnavailable` (the original error is its `cause`).
   */
  private call<T>(what: string, run: () => Promise<T>, extraMs = 0): Promise<T> {
    // Only the first connect may queue commands. Once Redis has been up, a client that is not
    // ready (reconnecting, or closed) fails at once: no wait, no queue growing for as long as the
    // outage lasts, no command replayed after the reconnect that its caller already saw fail.
    if (this.connectedOnce && this.redis.status !== 'ready') {
      return Promise.reject(new TemporarilyUnavailable(`redis: ${what} failed: not connected (${this.redis.status})`));
    }
    const fail = (error: unknown): never => {
      const unavailable = new TemporarilyUnavailable(`redis: ${what} failed: ${(error as Error)?.message ?? String(error)}`);
      unavailable.cause = error;
      throw unavailable;
    };
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      return Promise.reject(error).catch(fail);
    }
    // A standalone or Sentinel client arms `commandTimeout` on every command it is given, queued
    // or sent (redis-client.ts), and the acking client's covers its WAIT: no second timer per
    // call on the hot path. Cluster's offline queue (slot discovery) has no per-command timer,
    // so there the store keeps its own deadline.
    if (this.ownDeadline) pending = this.withDeadline(pending, this.timeoutMs + extraMs);
    return pending.catch(fail);
  }

  /** `pending`, or a rejection once `ms` (+50) have passed without an answer. */
  private withDeadline<T>(pending: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms + 50);
    });
    return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
  }

  private run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    if (!UNREPLICATED.has(name)) {
      // Plain EVAL, not ioredis's EVALSHA-with-retry: a retry after NOSCRIPT would be sent after
      // the WAIT and not be covered by it. Redis caches the script by its hash all the same.
      const [lua, numberOfKeys] = SCRIPTS[name];
      return this.replicated(name, (p) => p.eval(lua, numberOfKeys, ...args)).then(([reply]) => reply);
    }
    return this.call(name, () => this.script[name](...args));
  }

  /**
   * A write acknowledged only once replicated (see `DurabilityChecks` in store.ts): `build`'s
   * commands (one slot) plus WAIT, on the acking connection, bounded by commandTimeout plus
   * replicaAckTimeout.
   */
  private async replicated(what: string, build: (pipeline: ChainableCommander) => void): Promise<unknown[]> {
    if (this.ackingConnectedOnce && this.acking.status !== 'ready') {
      throw new TemporarilyUnavailable(`redis: ${what} failed: not connected (${this.acking.status})`);
    }
    try {
      return await this.call(what, () => this.replicas.write(what, build), this.ackTimeoutMs);
    } catch (error) {
      // The replicas' own verdict is already a TemporarilyUnavailable with the full story.
      throw (error as { cause?: unknown }).cause instanceof TemporarilyUnavailable ? (error as { cause: unknown }).cause : error;
    }
  }

  // ---- users ---------------------------------------------------------------------------------
  async createUser(user: UserRecord): Promise<void> {
    if (!taggable(user.id)) throw new RangeError(`invalid user id ${JSON.stringify(user.id)}`);
    const key = `${this.base(user.id)}user`;
    // Record first (NX: never overwrite an existing user), then claim the name. If the name is
    // taken, remove the record just written. A crash in between leaves an unindexed record that
    // no name resolves to, never an index entry without its record.
    const [created] = await this.replicated('createUser', (p) => p.set(key, toJson(user), 'NX'));
    if (created === null) throw new Conflict(`user ${user.id} already exists`);
    await this.upgradeUsernameIndex();
    const [claimed] = await this.replicated('createUser', (p) => p.hsetnx(this.usersKey, usernameKey(user.username), user.id));
    if (claimed === 0) {
      await this.replicated('createUser', (p) => p.del(key));
      throw new Conflict(`user ${user.username} already exists (usernames ignore case)`);
    }
    await this.listUser(usernameKey(user.username), user.id);
  }

  /**
   * Puts a claimed name into the listing order. The user exists once the name is claimed, so a
   * failure here does not fail createUser: the next process's index walk adds the entry.
   */
  private async listUser(field: string, id: string): Promise<void> {
    await this.userOrder.add([[field, id]]).catch(() => {});
  }

  async listUserPage(query: UserPageQuery): Promise<UserPage> {
    await this.upgradeUsernameIndex();
    return this.userOrder.page(query);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    if (!taggable(id)) return null;
    const raw = await this.call('getUser', () => this.redis.get(`${this.base(id)}user`));
    return raw === null ? null : (JSON.parse(raw) as UserRecord);
  }

  async findUserByName(username: string): Promise<UserRecord | null> {
    await this.upgradeUsernameIndex();
    const key = usernameKey(username);
    // The exact spelling first: it is only still a field of its own for a name that clashed with
    // another when the index was upgraded, and then it must keep finding its own user.
    const [exact, folded] = await this.call('findUserByName', () => this.redis.hmget(this.usersKey, username, key));
    for (const id of key === username ? [folded] : [exact, folded]) {
      const user = id ? await this.getUser(id) : null;
      // Between the two steps of createUser/deleteUser the index may point at a record that is
      // not (or no longer) this username's.
      if (user && usernameKey(user.username) === key) return user;
    }
    return null;
  }

  async putUser(user: UserRecord): Promise<void> {
    const replaced = taggable(user.id) ? await this.run('putUser', `${this.base(user.id)}user`, toJson(user), user.username) : 0;
    if (replaced !== 1) throw new NotFound(`user ${user.username} not found`);
  }

  async deleteUser(id: string, by: string, now: number): Promise<void> {
    checkTime('now', now);
    if (!taggable(id)) throw new NotFound('user not found');
    const base = this.base(id);
    // The tokens first, in bounded steps; the script then revokes what a concurrent create added.
    if ((await this.getUser(id)) === null) throw new NotFound('user not found');
    await this.revokeUserTokens(id, by, now);
    const username = await this.run('deleteUser', `${base}user`, `${base}tokens`, base, by, now, this.retention);
    if (typeof username !== 'string') throw new NotFound('user not found');
    await this.run('unindexUser', this.usersKey, usernameKey(username), id);
    if (usernameKey(username) !== username) await this.run('unindexUser', this.usersKey, username, id);
    await this.userOrder.remove([[usernameKey(username), id], [username, id]]);
    // The key is free again: an old clashing spelling left under its own field may now take it.
    if (this.usernameClashes) {
      this.usernameIndexUpgrade = undefined;
      await this.upgradeUsernameIndex();
    }
  }

  /**
   * Stores written before usernames were compared ignoring case index each user under its exact
   * spelling. Once per process, before the index is used, such fields move to their
   * `usernameKey`, so every spelling finds the user and a case variant cannot be created beside
   * it. Two old names that differ only in case cannot share the key: the first keeps it, the
   * other stays under its exact spelling, found by that spelling only, until one is deleted
   * (deleteUser then runs the upgrade again).
   */
  private upgradeUsernameIndex(): Promise<void> {
    this.usernameIndexUpgrade ??= (async () => {
      // Walked a step at a time (HSCAN), so no call grows with the number of users. Each step also
      // puts its fields into the listing order (user-order.ts), which builds that order for a
      // store written before it existed and repairs an entry a crash left out.
      let clashes = 0;
      let cursor = '0';
      do {
        const [nextCursor, flat] = await this.call('upgradeUsernameIndex', () => this.redis.hscan(this.usersKey, cursor, 'COUNT', INDEX_SCAN_COUNT));
        cursor = nextCursor;
        const listed: [string, string][] = [];
        for (let i = 0; i < flat.length; i += 2) {
          const [field, id] = [flat[i]!, flat[i + 1]!];
          const moved = usernameKey(field) === field ? 0 : await this.run('rekeyUsername', this.usersKey, field, usernameKey(field), id);
          if (moved === -1) clashes++;
          listed.push([moved === 1 ? usernameKey(field) : field, id]);
        }
        await this.userOrder.add(listed);
      } while (cursor !== '0');
      this.usernameClashes = clashes;
    })().catch((err: unknown) => {
      this.usernameIndexUpgrade = undefined; // try again on the next call
      throw err;
    });
    return this.usernameIndexUpgrade;
  }

  // ---- tokens --------------------------------------------------------------------------------
  async insertToken(token: TokenRecord, limit: TokenLimit, now: number): Promise<{ evicted: string[] }> {
    if (!taggable(token.userId)) throw new RangeError(`invalid user id ${JSON.stringify(token.userId)}`);
    checkTime('now', now);
    for (const field of ['createdAt', 'expiresAt', 'slidingWindow', 'maxLifetimeAt', 'lastUsedAt', 'revokedAt'] as const) {
      checkTime(`token.${field}`, token[field]);
    }
    if (!HEX_HASH.test(token.hash)) throw new RangeError('token.hash must be a SHA-256 in lowercase hex');
    const base = this.base(token.userId);
    const recordAt = (token.revokedAt ?? token.expiresAt) + this.retention;
    checkTime('audit horizon', recordAt);
    const active = token.revokedAt === undefined && token.expiresAt > now;
    const args = [
      `${base}tokens`,
      base,
      token.id,
      hash64(token.hash),
      token.createdAt,
      recordAt,
      token.expiresAt,
      limit.max,
      limit.onLimit,
      now,
      this.retention,
      active ? '1' : '0',
      ...encodeToken(wellFormed(token)),
    ];
    // 'again': evicting had to wait for expired tokens to be moved out of the active set, or had
    // more than STEP to evict (a lowered limit), STEP per call (scripts.ts); each call is atomic
    // and evicts only what its own count is over, and the last one inserts, so the limit is exact.
    // Every 'again' call moves or evicts at least one member, so the calls are bounded by the
    // user's active set; the cap only guards against a script change that breaks that.
    const evicted: string[] = [];
    for (let calls = 0; ; calls++) {
      if (calls >= MAX_STEP_CALLS) throw new TemporarilyUnavailable(`redis: insertToken made no progress after ${calls} calls`);
      const reply = (await this.run('insertToken', ...args)) as string[];
      if (reply[0] === 'conflict') throw new Conflict(`token limit reached (${limit.max} active tokens)`);
      evicted.push(...reply.slice(1));
      if (reply[0] === 'ok') return { evicted };
    }
  }

  async getToken(userId: string, id: string): Promise<TokenRecord | null> {
    if (!taggable(userId)) return null;
    const key = `${this.base(userId)}t:${id}`;
    // A hash; a JSON string when an earlier version wrote it and nothing has rewritten it since.
    const fields = await this.call('getToken', () =>
      this.redis.hgetall(key).catch((error: Error) => (/WRONGTYPE/.test(error.message) ? this.redis.get(key) : Promise.reject(error))),
    );
    if (fields === null) return null;
    if (typeof fields === 'string') return decodeToken(userId, fields);
    return Object.keys(fields).length ? fromFields(userId, id, fields) : null;
  }

  /**
   * Every record still kept, as a walk of pages (each script call bounded like any page), not one
   * call that reads them all: a user with 10,000 records kept for audit held Redis ~100–300 ms in
   * one call. Not a snapshot: a token revoked during the walk may be met twice (active, then
   * retained) and is listed once, in its later state.
   */
  async listTokens(userId: string, now: number): Promise<TokenRecord[]> {
    if (!taggable(userId)) return [];
    const byId = new Map<string, TokenRecord>();
    let cursor: string | undefined;
    do {
      const page = await this.listTokenPage(userId, { limit: MAX_PAGE, cursor, include: { revoked: true, expired: true } }, now);
      for (const token of page.tokens) byId.set(token.id, token);
      cursor = page.next;
    } while (cursor !== undefined);
    // Same order as the memory store (the sorted set breaks createdAt ties by byte order).
    return [...byId.values()].sort(byCreation);
  }

  async listTokenPage(userId: string, query: TokenPageQuery, now: number): Promise<TokenPage> {
    checkPageLimit(query.limit);
    let after = parseTokenCursor(query.cursor);
    if (!taggable(userId)) return { tokens: [] };
    checkTime('now', now);
    const base = this.base(userId);
    const { revoked, expired } = query.include;
    // A page is read PAGE_CHUNK records per script call, so a call's cost does not grow with the
    // page size asked for (up to 1000); a filtered walk looks at no more than `limit * 4 + 100`
    // members per page (the rule in store.ts: a page may come back short, with a cursor).
    const tokens: TokenRecord[] = [];
    let looked = 0;
    const lookMax = query.limit * 4 + 100;
    for (;;) {
      const want = Math.min(PAGE_CHUNK, query.limit - tokens.length);
      const reply = (await this.run(
        'listTokenPage',
        `${base}tokens`,
        `${base}retained`,
        base,
        now,
        this.retention,
        want,
        after?.phase ?? 'a',
        after?.score ?? 0,
        after?.id ?? '',
        revoked ? '1' : '0',
        expired ? '1' : '0',
        Math.max(want, Math.min(PAGE_LOOK, lookMax - looked)),
      )) as ['again'] | [string, string, string, number, ...TokenReply[]];
      // Expired tokens were still waiting to be moved to 'retained' (STEP per call): go on.
      if (reply[0] === 'again') continue;
      const [phase, score, id, count, ...raws] = reply as [string, string, string, number, ...TokenReply[]];
      looked += Number(count);
      for (const raw of raws) {
        const token = decodeToken(userId, raw);
        // Fail closed: a record is listed only in the state asked for, never a retained one as active.
        const state = token.revokedAt !== undefined ? 'revoked' : token.expiresAt <= now ? 'expired' : 'active';
        if (state === 'active' || query.include[state]) tokens.push(token);
      }
      if (!phase) return { tokens };
      after = { phase: phase as 'a' | 'r', score: Number(score), id };
      if (tokens.length >= query.limit || looked >= lookMax) return { tokens, next: formatTokenCursor(after) };
    }
  }

  async updateToken(userId: string, id: string, patch: { name?: string; description?: string }): Promise<TokenRecord | null> {
    if (!taggable(userId)) return null;
    // Strings pass through cjson here, so make them well-formed the same way toJson does.
    const clean = (s: string | undefined): string => (s ?? '').replace(LONE_SURROGATE, '\ufffd');
    const raw = (await this.run(
      'updateToken',
      `${this.base(userId)}t:${id}`,
      patch.name !== undefined ? '1' : '0',
      clean(patch.name),
      patch.description !== undefined ? '1' : '0',
      clean(patch.description),
      id,
    )) as TokenReply | null;
    return raw === null ? null : decodeToken(userId, raw);
  }

  async shortenTokenExpiry(userId: string, id: string, until: number, now: number): Promise<TokenRecord | null> {
    if (!taggable(userId)) return null;
    checkTime('now', now);
    checkTime('until', until);
    const base = this.base(userId);
    const raw = (await this.run('shortenTokenExpiry', `${base}t:${id}`, base, until, now, this.retention, id)) as TokenReply | null;
    return raw === null ? null : decodeToken(userId, raw);
  }

  async revokeToken(userId: string, id: string, by: string, now: number): Promise<TokenRecord | null> {
    if (!taggable(userId)) return null;
    checkTime('now', now);
    const base = this.base(userId);
    const raw = (await this.run('revokeToken', `${base}t:${id}`, base, by, now, this.retention, id)) as TokenReply | null;
    return raw === null ? null : decodeToken(userId, raw);
  }

  async revokeTokenByHash(userId: string, hash: string, by: string, now: number): Promise<boolean> {
    if (!taggable(userId)) return false;
    checkTime('now', now);
    // Only SHA-256 hashes are ever stored (insertToken), so anything else matches no record.
    if (!HEX_HASH.test(hash)) return false;
    const base = this.base(userId);
    return (await this.run('revokeTokenByHash', `${base}hashes`, base, by, now, this.retention, hash64(hash), hash)) === 1;
  }

  async findTokenIdByHash(userId: string, hash: string): Promise<string | null> {
    if (!taggable(userId) || !HEX_HASH.test(hash)) return null;
    const base = this.base(userId);
    // The lookup names a candidate by the hash's first characters (the current field, else the
    // hex one of the previous form): its record must hold the whole hash.
    for (const field of [lookupField(hash), hash.slice(0, HEX_FIELD_CHARS)]) {
      const id = await this.call('findTokenIdByHash', () => this.redis.hget(`${base}hashes`, field));
      if (id !== null) return (await this.getToken(userId, id))?.hash === hash ? id : null;
    }
    return this.call('findTokenIdByHash', () => this.redis.get(`${base}h:${hash}`));
  }

  /**
   * In steps of STEP tokens (scripts.ts: REVOKE_USER_TOKENS), each its own atomic, replicated
   * script call, so revoking 1,000 tokens never holds Redis for the ~20 ms one call would take.
   * Not atomic as a whole, and it need not be: the service stamps the owner's
   * `credentialsNotBefore` first (revocation.ts), which voids every one of these tokens on the
   * hot path in one write; the steps then mark each record. Success is reported only after the
   * last step, and a failed step fails the call (the caller was not told it succeeded; the
   * stamp still holds). A token created while the steps run is revoked too if a step meets it.
   */
  async revokeUserTokens(userId: string, by: string, now: number): Promise<number> {
    if (!taggable(userId)) return 0;
    checkTime('now', now);
    const base = this.base(userId);
    let total = 0;
    for (;;) {
      const [count, more] = (await this.run('revokeUserTokens', `${base}tokens`, base, by, now, this.retention)) as [number, number];
      total += count;
      if (!more) return total;
    }
  }

  async useToken(userId: string, hash: string, now: number, ip: string): Promise<TokenUse | null> {
    // Only SHA-256 hashes are ever stored (insertToken), so anything else matches no record.
    if (!taggable(userId) || !HEX_HASH.test(hash)) return null;
    checkTime('now', now);
    const base = this.base(userId);
    const [ipf, stored] = ipField(ip);
    const args = [`${base}hashes`, `${base}user`, base, now, stored, this.lastUsedPrecision, hash64(hash), hash, this.retention, ipf];
    const reply = (await this.run('useToken', ...args)) as [string, (string | number)[], string] | ['old'] | null;
    if (!reply) return null;
    let use: TokenUse;
    if (reply.length === 1) {
      // A record written by an earlier version: once, then it is in the current form.
      const migrated = (await this.run('useOldToken', ...args)) as [TokenReply, string] | null;
      if (!migrated) return null;
      use = { token: decodeToken(userId, migrated[0]), user: JSON.parse(migrated[1]) as UserRecord };
    } else {
      const [id, fields, user] = reply as [string, (string | number)[], string];
      use = { token: fromFlat(userId, id, fields), user: JSON.parse(user) as UserRecord };
    }
    // When USE_TOKEN wrote nothing it left the owner's checks to here, on the user record it read
    // atomically with the token: the same rule as the script's (which makes them before any
    // write), so the decision is the same. Made on every reply: a second look costs nothing.
    const { enabled, credentialsNotBefore } = use.user;
    if (enabled !== true) return null;
    if (typeof credentialsNotBefore === 'number' && use.token.createdAt < credentialsNotBefore) return null;
    return use;
  }

  // ---- sessions ------------------------------------------------------------------------------
  async createSession(session: SessionRecord, accessHash: string, accessExpiresAt: number): Promise<void> {
    if (!taggable(session.userId)) throw new RangeError(`invalid user id ${JSON.stringify(session.userId)}`);
    for (const field of ['createdAt', 'expiresAt', 'revokedAt'] as const) checkTime(`session.${field}`, session[field]);
    checkTime('accessExpiresAt', accessExpiresAt);
    const base = this.base(session.userId);
    await this.run(
      'createSession',
      `${base}s:${session.id}`,
      `${base}r:${session.refreshHash}`,
      `${base}a:${accessHash}`,
      toJson(session),
      session.id,
      session.expiresAt,
      toJson({ sid: session.id, exp: accessExpiresAt }),
      accessExpiresAt,
      `${base}sessions`,
      session.createdAt,
    );
  }

  async useAccessToken(userId: string, accessHash: string, now: number): Promise<SessionUse | null> {
    if (!taggable(userId)) return null;
    const base = this.base(userId);
    const reply = (await this.run('useAccessToken', `${base}a:${accessHash}`, `${base}user`, base, now)) as
      | [string, string, string]
      | null;
    if (!reply) return null;
    return {
      session: JSON.parse(reply[0]) as SessionRecord,
      user: JSON.parse(reply[1]) as UserRecord,
      accessExpiresAt: Number(reply[2]),
    };
  }

  async rotateRefreshToken(
    userId: string,
    refreshHash: string,
    next: { refreshHash: string; accessHash: string; accessExpiresAt: number },
    now: number,
  ): Promise<RefreshOutcome> {
    if (!taggable(userId)) return { outcome: 'invalid' };
    checkTime('now', now);
    checkTime('accessExpiresAt', next.accessExpiresAt);
    const base = this.base(userId);
    const reply = (await this.run(
      'rotateRefreshToken',
      `${base}r:${refreshHash}`,
      `${base}user`,
      base,
      refreshHash,
      now,
      next.refreshHash,
      next.accessHash,
      next.accessExpiresAt,
    )) as string[];
    if (reply[0] === 'ok') return { outcome: 'ok', session: JSON.parse(reply[1]!) as SessionRecord };
    return reply[0] === 'reused' ? { outcome: 'reused' } : { outcome: 'invalid' };
  }

  async findSessionByRefresh(userId: string, refreshHash: string): Promise<SessionRecord | null> {
    if (!taggable(userId)) return null;
    const base = this.base(userId);
    const sid = await this.call('findSessionByRefresh', () => this.redis.get(`${base}r:${refreshHash}`));
    if (sid === null) return null;
    const raw = await this.call('findSessionByRefresh', () => this.redis.get(`${base}s:${sid}`));
    return raw === null ? null : (JSON.parse(raw) as SessionRecord);
  }

  async revokeSession(userId: string, sessionId: string, now: number): Promise<void> {
    if (!taggable(userId)) return;
    checkTime('now', now);
    await this.run('revokeSession', `${this.base(userId)}s:${sessionId}`, now);
  }

  /** Read only: the session index (score = session end) names the candidates; the records decide. */
  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    if (!taggable(userId)) return [];
    checkTime('now', now);
    const base = this.base(userId);
    const ids = await this.call('listUserSessions', () => this.redis.zrangebyscore(`${base}sessions`, `(${now}`, '+inf'));
    if (!ids.length) return [];
    // One hash slot ({userId}), so one MGET also on a Cluster.
    const raws = await this.call('listUserSessions', () => this.redis.mget(ids.map((id) => `${base}s:${id}`)));
    return raws
      .flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as SessionRecord]))
      .filter((s) => s.revokedAt === undefined && s.expiresAt > now)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeUserSessions(userId: string, now: number): Promise<number> {
    if (!taggable(userId)) return 0;
    checkTime('now', now);
    const base = this.base(userId);
    return (await this.run('revokeUserSessions', `${base}sessions`, base, now)) as number;
  }

  // ---- counters ------------------------------------------------------------------------------
  private counterKey(key: string): string {
    return `${this.prefix}c:${key}`;
  }

  async hitCounter(key: string, windowMs: number, now: number, by = 1): Promise<Counter> {
    checkTime('now', now);
    checkTime('windowMs', windowMs);
    const [count, ttlMs] = (await this.run('hitCounter', this.counterKey(key), windowMs, now, by)) as [number, number];
    return { count, ttlMs };
  }

  async getCounter(key: string, now: number): Promise<Counter> {
    const [n, r] = await this.call('getCounter', () => this.redis.hmget(this.counterKey(key), 'n', 'r'));
    const count = Number(n);
    const resetAt = Number(r);
    if (n === null || r === null || !(resetAt > now)) return { count: 0, ttlMs: 0 };
    return { count, ttlMs: resetAt - now };
  }

  async deleteCounter(key: string): Promise<void> {
    await this.call('deleteCounter', () => this.redis.del(this.counterKey(key)));
  }

  // ---- provider records ----------------------------------------------------------------------
  private providerKey(model: string, id: string): string {
    return `${this.prefix}o:${model}:${id}`;
  }

  async providerUpsert(model: string, id: string, payload: ProviderPayload, ttlSeconds?: number): Promise<void> {
    const key = this.providerKey(model, id);
    const ttl = ttlSeconds === undefined ? undefined : Math.max(1, Math.ceil(ttlSeconds));
    // Provider tokens and grants are grants of access, and the grant index is what revoking a
    // grant finds its tokens by: all replicated. One pipeline per key (they hash to any slot).
    await this.replicated('providerUpsert', (p) => {
      p.del(key);
      p.hset(key, 'p', JSON.stringify(payload));
      if (ttl) p.expire(key, ttl);
    });
    const indexes: Promise<unknown>[] = [];
    if (payload.grantId) {
      const grantKey = `${this.prefix}o:g:${payload.grantId}`;
      indexes.push(this.replicated('providerUpsert', (p) => {
        p.sadd(grantKey, key);
        // The grant index lives as long as its longest-lived member.
        if (ttl) p.expire(grantKey, ttl, 'NX').expire(grantKey, ttl, 'GT');
        else p.persist(grantKey);
      }));
    }
    // Grants and provider sessions by account: what the user-wide revoke has to end.
    if ((model === 'Grant' || model === 'Session') && typeof payload.accountId === 'string') {
      const accountKey = `${this.prefix}o:a:${payload.accountId}`;
      indexes.push(this.replicated('providerUpsert', (p) => {
        p.sadd(accountKey, `${model}:${id}`);
        if (ttl) p.expire(accountKey, ttl, 'NX').expire(accountKey, ttl, 'GT');
        else p.persist(accountKey);
      }));
    }
    for (const index of ['userCode', 'uid'] as const) {
      const value = payload[index];
      if (typeof value === 'string') {
        const indexKey = `${this.prefix}o:${model}:${index}:${value}`;
        indexes.push(this.replicated('providerUpsert', (p) => (ttl ? p.set(indexKey, id, 'EX', ttl) : p.set(indexKey, id))));
      }
    }
    await Promise.all(indexes);
  }

  async providerFind(model: string, id: string): Promise<ProviderPayload | null> {
    const { p, c } = await this.call('providerFind', () => this.redis.hgetall(this.providerKey(model, id)));
    if (!p) return null;
    const payload = JSON.parse(p) as ProviderPayload;
    if (c) payload.consumed = Number(c);
    return payload;
  }

  async providerFindBy(model: string, index: 'userCode' | 'uid', value: string): Promise<ProviderPayload | null> {
    const id = await this.call('providerFindBy', () => this.redis.get(`${this.prefix}o:${model}:${index}:${value}`));
    return id ? this.providerFind(model, id) : null;
  }

  async providerConsume(model: string, id: string, consumedAt: number): Promise<boolean> {
    const key = this.providerKey(model, id);
    // HSETNX on a separate field: atomic (only one caller sets it), and the record's TTL is untouched.
    // Replicated: a consumption lost in a failover would let the code be redeemed again.
    const [set, exists] = await this.replicated('providerConsume', (p) => p.hsetnx(key, 'c', String(consumedAt)).hexists(key, 'p'));
    if (!set) return false;
    if (exists) return true;
    await this.call('providerConsume', () => this.redis.del(key)); // there was no record: do not leave a stray field behind
    return false;
  }

  async providerDestroy(model: string, id: string): Promise<void> {
    await this.replicated('providerDestroy', (p) => p.del(this.providerKey(model, id)));
  }

  async providerRevokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `${this.prefix}o:g:${grantId}`;
    const members = await this.call('providerRevokeByGrantId', () => this.redis.smembers(grantKey));
    await Promise.all(members.map((key) => this.replicated('providerRevokeByGrantId', (p) => p.del(key))));
    await this.replicated('providerRevokeByGrantId', (p) => p.del(grantKey));
  }

  async providerRevokeByAccountId(accountId: string): Promise<{ grants: number; sessions: number }> {
    const accountKey = `${this.prefix}o:a:${accountId}`;
    const members = await this.call('providerRevokeByAccountId', () => this.redis.smembers(accountKey));
    let grants = 0;
    let sessions = 0;
    for (const member of members) {
      const [model, id] = [member.slice(0, member.indexOf(':')), member.slice(member.indexOf(':') + 1)];
      if (model === 'Grant') await this.providerRevokeByGrantId(id);
      const deleted = await this.call('providerRevokeByAccountId', () => this.redis.del(this.providerKey(model, id)));
      if (deleted && model === 'Grant') grants++;
      if (deleted && model === 'Session') sessions++;
      await this.call('providerRevokeByAccountId', () => this.redis.srem(accountKey, member));
    }
    return { grants, sessions };
  }

  async providerGrantsOfAccount(accountId: string): Promise<ProviderGrantRecords[]> {
    const members = await this.call('providerGrantsOfAccount', () => this.redis.smembers(`${this.prefix}o:a:${accountId}`));
    const grants = await Promise.all(members.filter((m) => m.startsWith('Grant:')).map(async (member): Promise<ProviderGrantRecords | null> => {
      const id = member.slice('Grant:'.length);
      // An index entry may outlive its record (the record expired first): no grant then.
      const grant = await this.providerFind('Grant', id);
      if (!grant) return null;
      const keys = await this.call('providerGrantsOfAccount', () => this.redis.smembers(`${this.prefix}o:g:${id}`));
      const payloads = await Promise.all(keys.map((key) => this.call('providerGrantsOfAccount', () => this.redis.hget(key, 'p'))));
      return { id, grant, members: payloads.filter((p) => p !== null).map((p) => JSON.parse(p) as ProviderPayload) };
    }));
    return grants.filter((g) => g !== null);
  }

  // ---- settings ------------------------------------------------------------------------------
  async getSetting(name: string): Promise<string | null> {
    return this.call('getSetting', () => this.redis.get(`${this.prefix}set:${name}`));
  }

  async initSetting(name: string, value: string): Promise<string> {
    const key = `${this.prefix}set:${name}`;
    const [, current] = await this.replicated('initSetting', (p) => p.set(key, value, 'NX').get(key));
    return (current as string | null) ?? value;
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.replicated('setSetting', (p) => p.set(`${this.prefix}set:${name}`, value));
  }

  // ---- audit trail (audit-stream.ts) ---------------------------------------------------------
  private auditStream?: RedisAuditStream;
  private get auditLog(): RedisAuditStream {
    return (this.auditStream ??= new RedisAuditStream(this.redis, `${this.prefix}audit`, (what, run) => this.call(what, run)));
  }

  auditAppend(event: string, now: number, retentionMs: number, replaces?: string): Promise<string> {
    checkTime('now', now);
    return this.auditLog.append(event, now, retentionMs, replaces);
  }

  auditRead(range: AuditRange): Promise<AuditEntry[]> {
    return this.auditLog.read(range);
  }

  // ---- outbox (outbox.ts) ---------------------------------------------------------------------
  private outboxQueues?: RedisOutbox;
  private get outbox(): RedisOutbox {
    return (this.outboxQueues ??= new RedisOutbox(this.redis, this.prefix, (what, run) => this.call(what, run), (what, build) => this.replicated(what, build)));
  }

  outboxAdd(queue: string, id: string, payload: string, dueAt: number, max: number): Promise<OutboxAddResult> {
    checkTime('dueAt', dueAt);
    return this.outbox.add(queue, id, payload, dueAt, max);
  }

  outboxClaim(queue: string, now: number, leaseMs: number, count: number): Promise<OutboxItem[]> {
    checkTime('now', now);
    return this.outbox.claim(queue, now, leaseMs, count);
  }

  outboxRemove(queue: string, ids: string[]): Promise<number> {
    return this.outbox.remove(queue, ids);
  }

  outboxDefer(queue: string, id: string, dueAt: number): Promise<void> {
    checkTime('dueAt', dueAt);
    return this.outbox.defer(queue, id, dueAt);
  }

  outboxPeek(queue: string, count: number): Promise<OutboxItem[]> {
    return this.outbox.peek(queue, count);
  }

  outboxSize(queue: string): Promise<number> {
    return this.outbox.size(queue);
  }

  deliveryLogPush(log: string, entry: string, max: number): Promise<void> {
    return this.outbox.logPush(log, entry, max);
  }

  deliveryLogRead(log: string, count: number): Promise<string[]> {
    return this.outbox.logRead(log, count);
  }

  async compareAndSetSetting(name: string, expected: string | null, value: string): Promise<boolean> {
    const done = await this.call('compareAndSetSetting', () => settingsChannel.compareAndSet(this.redis, `${this.prefix}set:${name}`, expected, value));
    // The write stands even if the announcement fails: other instances' polls find it.
    if (done) await this.redis.publish(`${this.prefix}settings`, name).catch(() => 0);
    return done;
  }

  async watchSettings(listener: (name: string) => void): Promise<() => Promise<void>> {
    try {
      return await settingsChannel.subscribe(this.redis, `${this.prefix}settings`, listener, Math.max(5000, this.timeoutMs * 5));
    } catch (error) {
      const unavailable = new TemporarilyUnavailable(`redis: watchSettings failed: ${(error as Error)?.message ?? String(error)}`);
      unavailable.cause = error;
      throw unavailable;
    }
  }

  // ---- claims, markers, transient values (short-lived.ts) --------------------------------------
  private shortLivedState?: RedisShortLived;
  private get shortLived(): RedisShortLived {
    return (this.shortLivedState ??= new RedisShortLived(this.redis, this.prefix, (what, run) => this.call(what, run), (what, build) => this.replicated(what, build)));
  }

  claimOnce(key: string, ttlMs: number, now: number): Promise<boolean> {
    checkTime('now', now);
    return this.shortLived.claimOnce(key, ttlMs, now);
  }

  setMarker(key: string, ttlMs: number, now: number): Promise<void> {
    checkTime('now', now);
    return this.shortLived.setMarker(key, ttlMs, now);
  }

  hasMarker(key: string, now: number): Promise<boolean> {
    return this.shortLived.hasMarker(key, now);
  }

  clearMarker(key: string): Promise<void> {
    return this.shortLived.clearMarker(key);
  }

  putTransient(kind: string, id: string, value: TransientValue, ttlMs: number, now: number): Promise<void> {
    checkTime('now', now);
    return this.shortLived.put(kind, id, value, ttlMs, now);
  }

  peekTransient(kind: string, id: string, now: number): Promise<TransientValue | null> {
    return this.shortLived.peek(kind, id, now);
  }

  takeTransient(kind: string, id: string, now: number): Promise<TransientValue | null> {
    return this.shortLived.take(kind, id, now);
  }

  // ---- lifecycle -----------------------------------------------------------------------------
  async ping(): Promise<void> {
    await this.call('ping', () => this.redis.ping());
  }

  /** Closes the clients (the store owns them, also one passed to the constructor). */
  async close(): Promise<void> {
    try {
      await this.call('close', () => Promise.all([this.redis.quit(), this.acking.quit()]));
    } catch {
      // Unreachable Redis: nothing to say goodbye to.
    } finally {
      this.redis.disconnect();
      this.acking.disconnect();
    }
  }

  // ---- durability (DurabilityChecks) ----------------------------------------------------------
  /** Eviction policy and persistence of every primary (checks.ts); refreshes the replica count. */
  async checkDurability(): Promise<DurabilityFinding[]> {
    const [findings, replicas] = await this.call('checkDurability', () =>
      Promise.all([checkRedis(this.redis), connectedReplicas(this.redis).catch((error: Error) => error)]),
    );
    if (replicas instanceof Error) {
      // Without INFO the default (every replica seen) cannot be known, and writes that need it fail closed.
      findings.push({ level: 'unverified', node: 'primaries', setting: 'store.replicaAcks', message: `redis: could not count the replicas (INFO refused: ${replicas.message}): set store.replicaAcks to the number of replicas each write must reach (0 for none)` });
      return findings;
    }
    this.replicas.observe(replicas);
    const needed = await this.replicas.required();
    const fewest = Math.min(...replicas);
    if (needed > fewest) {
      findings.push({
        level: 'warning',
        node: 'primaries',
        setting: 'store.replicaAcks',
        message: `redis: writes that grant or take away access need ${needed} replica(s) to confirm, but a primary has ${fewest} connected: they answer 503 until replicas are back (store.replicaAcks: 0 turns the wait off, at the risk of losing them in a failover)`,
      });
    }
    return findings;
  }

  /** SET on a key of its own: fails (TemporarilyUnavailable) when Redis refuses writes, e.g. OOM under noeviction. */
  async probeWrite(): Promise<void> {
    await this.call('probeWrite', () => this.redis.set(`${this.prefix}probe`, String(Date.now()), 'PX', 60_000));
  }
}
