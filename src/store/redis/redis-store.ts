/**
 * The production store: all state in Redis (standalone or Cluster, Redis >= 6.2 for SET PXAT),
 * shared by every gateway process. Held to the same contract as `MemoryStore`
 * (test/store/contract.ts), whose behaviour is the specification.
 *
 * Key layout (`P` = the configured key prefix, `U` = a user id):
 *
 *   P{U}:user        user record (JSON)                                   no expiry
 *   P{U}:tokens      sorted set: token id, score createdAt                no expiry (pruned lazily;
 *                                                                          expires after deleteUser)
 *   P{U}:t:<id>      token record (JSON)                      PXAT (revokedAt ?? expiresAt) + audit retention
 *   P{U}:h:<hash>    SHA-256 of the secret → token id         PXAT expiresAt; deleted on revoke, so it
 *                                                             exists only while the token is usable
 *   P{U}:s:<sid>     login session record (JSON)              PXAT session expiresAt
 *   P{U}:a:<hash>    login access token → JSON {sid, exp}     PXAT exp
 *   P{U}:r:<hash>    refresh token hash → sid, every rotation PXAT session expiresAt (reuse detection)
 *   Pusers           hash: username → user id                 global
 *   Pc:<key>         counter, hash {n: count, r: resetAt}     PXAT resetAt
 *   Po:<Model>:<id>  oidc-provider record, hash {p: JSON, c: consumed}   EX the model's TTL
 *   Po:g:<grantId>   set of the record keys of one grant      EX the longest member's TTL
 *   Po:<Model>:userCode:<code>, Po:<Model>:uid:<uid>  → id    EX the record's TTL
 *   Pset:<name>      shared settings (signing keys, cookie keys)          no expiry
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
 * are exactly one EVALSHA each. Plain reads (getUser, getToken, ...) are single GETs.
 *
 * Failure: every Redis call goes through `call()`, which turns any failure — connection refused or
 * lost, a command not answered within `commandTimeoutMs`, an error reply — into
 * `TemporarilyUnavailable`, so a dead or slow Redis never yields an answer the store did not check.
 * How that stays fast is described at `createRedisClient` (redis-client.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import { createRedisClient, type RedisConnectOptions } from './redis-client.js';
import { Conflict, NotFound, TemporarilyUnavailable } from '../../errors.js';
import type { Counter, ProviderPayload, RefreshOutcome, SessionUse, Store, TokenLimit, TokenUse } from '../store.js';
import type { SessionRecord, TokenRecord, UserRecord } from '../records.js';
import * as scripts from './scripts.js';

export type { RedisConnectOptions } from './redis-client.js';

export interface RedisStoreOptions {
  redis: Redis | Cluster;
  /** Prepended to every key, e.g. `tessera:`. Must not contain `{` or `}` (hash tags). */
  keyPrefix: string;
  /** How long revoked/expired token records stay listable (ms). */
  auditRetentionMs: number;
  /**
   * Upper bound for one store call, enforced by the store itself on top of the client's own
   * `commandTimeout` (ioredis does not time out commands queued while a Cluster is not ready).
   * Default 1000 ms.
   */
  commandTimeoutMs?: number;
}


/** Script name → [Lua, number of KEYS]. Registered on the client under `tessera<Name>`. */
const SCRIPTS = {
  useToken: [scripts.USE_TOKEN, 2],
  insertToken: [scripts.INSERT_TOKEN, 1],
  listTokens: [scripts.LIST_TOKENS, 1],
  updateToken: [scripts.UPDATE_TOKEN, 1],
  revokeToken: [scripts.REVOKE_TOKEN, 1],
  revokeTokenByHash: [scripts.REVOKE_TOKEN_BY_HASH, 1],
  revokeUserTokens: [scripts.REVOKE_USER_TOKENS, 1],
  deleteUser: [scripts.DELETE_USER, 2],
  unindexUser: [scripts.UNINDEX_USER, 1],
  putUser: [scripts.PUT_USER, 1],
  createSession: [scripts.CREATE_SESSION, 3],
  useAccessToken: [scripts.USE_ACCESS_TOKEN, 2],
  rotateRefreshToken: [scripts.ROTATE_REFRESH_TOKEN, 2],
  revokeSession: [scripts.REVOKE_SESSION, 1],
  hitCounter: [scripts.HIT_COUNTER, 1],
} as const satisfies Record<string, readonly [string, number]>;

type ScriptName = keyof typeof SCRIPTS;
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

const byCreation = (a: TokenRecord, b: TokenRecord): number => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

/** A user id can only be a hash tag if it has no braces; such an id cannot exist in the store. */
const taggable = (userId: string): boolean => userId.length > 0 && !/[{}]/.test(userId);

/** How many user records listUsers reads at a time. */
const LIST_USERS_BATCH = 200;

export class RedisStore implements Store {
  private readonly redis: Redis | Cluster;
  private readonly prefix: string;
  private readonly retention: number;
  private readonly timeoutMs: number;
  private readonly script: Record<ScriptName, ScriptFn>;
  /** Set at the first 'ready': from then on a client that is not ready means Redis is down. */
  private connectedOnce = false;

  constructor(options: RedisStoreOptions) {
    if (/[{}]/.test(options.keyPrefix)) throw new RangeError('keyPrefix must not contain { or } (Redis Cluster hash tags)');
    if (options.redis.options.keyPrefix) {
      throw new RangeError('the ioredis client must not have its own keyPrefix: keys built inside Lua scripts would miss it');
    }
    checkTime('auditRetentionMs', options.auditRetentionMs);
    this.redis = options.redis;
    this.prefix = options.keyPrefix;
    this.retention = options.auditRetentionMs;
    this.timeoutMs = options.commandTimeoutMs ?? 1000;
    this.connectedOnce = this.redis.status === 'ready';
    this.redis.on('ready', () => (this.connectedOnce = true));
    const client = this.redis as unknown as Record<string, ScriptFn>;
    const bound: Partial<Record<ScriptName, ScriptFn>> = {};
    for (const [name, [lua, numberOfKeys]] of Object.entries(SCRIPTS) as [ScriptName, readonly [string, number]][]) {
      const command = `tessera${name[0]!.toUpperCase()}${name.slice(1)}`;
      this.redis.defineCommand(command, { lua, numberOfKeys });
      bound[name] = (...args) => client[command]!(...args);
    }
    this.script = bound as Record<ScriptName, ScriptFn>;
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
      commandTimeoutMs: opts.commandTimeoutMs,
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
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    // Only the first connect may queue commands. Once Redis has been up, a client that is not
    // ready (reconnecting, or closed) fails at once: no wait, no queue growing for as long as the
    // outage lasts, no command replayed after the reconnect that its caller already saw fail.
    if (this.connectedOnce && this.redis.status !== 'ready') {
      throw new TemporarilyUnavailable(`redis: ${what} failed: not connected (${this.redis.status})`);
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs + 50);
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (error) {
      const unavailable = new TemporarilyUnavailable(`redis: ${what} failed: ${(error as Error)?.message ?? String(error)}`);
      unavailable.cause = error;
      throw unavailable;
    } finally {
      clearTimeout(timer);
    }
  }

  private run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    return this.call(name, () => this.script[name](...args));
  }

  // ---- users ---------------------------------------------------------------------------------
  async createUser(user: UserRecord): Promise<void> {
    if (!taggable(user.id)) throw new RangeError(`invalid user id ${JSON.stringify(user.id)}`);
    const key = `${this.base(user.id)}user`;
    // Record first (NX: never overwrite an existing user), then claim the name. If the name is
    // taken, remove the record just written. A crash in between leaves an unindexed record that
    // no name resolves to, never an index entry without its record.
    const created = await this.call('createUser', () => this.redis.set(key, toJson(user), 'NX'));
    if (created === null) throw new Conflict(`user ${user.id} already exists`);
    const claimed = await this.call('createUser', () => this.redis.hsetnx(this.usersKey, user.username, user.id));
    if (claimed === 0) {
      await this.call('createUser', () => this.redis.del(key));
      throw new Conflict(`user ${user.username} already exists`);
    }
  }

  async getUser(id: string): Promise<UserRecord | null> {
    if (!taggable(id)) return null;
    const raw = await this.call('getUser', () => this.redis.get(`${this.base(id)}user`));
    return raw === null ? null : (JSON.parse(raw) as UserRecord);
  }

  async findUserByName(username: string): Promise<UserRecord | null> {
    const id = await this.call('findUserByName', () => this.redis.hget(this.usersKey, username));
    if (id === null) return null;
    const user = await this.getUser(id);
    // Between the two steps of createUser/deleteUser the index may point at a record that is not
    // (or no longer) this username's.
    return user && user.username === username ? user : null;
  }

  async putUser(user: UserRecord): Promise<void> {
    const replaced = taggable(user.id) ? await this.run('putUser', `${this.base(user.id)}user`, toJson(user), user.username) : 0;
    if (replaced !== 1) throw new NotFound(`user ${user.username} not found`);
  }

  async deleteUser(id: string, by: string, now: number): Promise<void> {
    checkTime('now', now);
    if (!taggable(id)) throw new NotFound('user not found');
    const base = this.base(id);
    const username = await this.run('deleteUser', `${base}user`, `${base}tokens`, base, by, now, this.retention);
    if (typeof username !== 'string') throw new NotFound('user not found');
    await this.run('unindexUser', this.usersKey, username, id);
  }

  async listUsers(): Promise<UserRecord[]> {
    const index = await this.call('listUsers', () => this.redis.hgetall(this.usersKey));
    // One GET per user: the records are spread over the cluster's slots, so no MGET. In batches:
    // thousands of GETs sent at once would wait on each other past the per-command timeout.
    const users: (UserRecord | null)[] = [];
    const entries = Object.entries(index);
    for (let start = 0; start < entries.length; start += LIST_USERS_BATCH) {
      users.push(...(await Promise.all(entries.slice(start, start + LIST_USERS_BATCH).map(async ([username, id]) => {
        const user = await this.getUser(id);
        return user && user.username === username ? user : null;
      }))));
    }
    return users.filter((u): u is UserRecord => u !== null).sort((a, b) => a.username.localeCompare(b.username));
  }

  // ---- tokens --------------------------------------------------------------------------------
  async insertToken(token: TokenRecord, limit: TokenLimit, now: number): Promise<{ evicted: string[] }> {
    if (!taggable(token.userId)) throw new RangeError(`invalid user id ${JSON.stringify(token.userId)}`);
    checkTime('now', now);
    for (const field of ['createdAt', 'expiresAt', 'slidingWindow', 'maxLifetimeAt', 'lastUsedAt', 'revokedAt'] as const) {
      checkTime(`token.${field}`, token[field]);
    }
    const base = this.base(token.userId);
    const recordAt = (token.revokedAt ?? token.expiresAt) + this.retention;
    checkTime('audit horizon', recordAt);
    const reply = (await this.run(
      'insertToken',
      `${base}tokens`,
      base,
      toJson(token),
      token.id,
      token.hash,
      token.createdAt,
      recordAt,
      token.expiresAt,
      limit.max,
      limit.onLimit,
      now,
      this.retention,
    )) as string[];
    if (reply[0] === 'conflict') throw new Conflict(`token limit reached (${limit.max} active tokens)`);
    return { evicted: reply.slice(1) };
  }

  async getToken(userId: string, id: string): Promise<TokenRecord | null> {
    if (!taggable(userId)) return null;
    const raw = await this.call('getToken', () => this.redis.get(`${this.base(userId)}t:${id}`));
    return raw === null ? null : (JSON.parse(raw) as TokenRecord);
  }

  async listTokens(userId: string, now: number): Promise<TokenRecord[]> {
    if (!taggable(userId)) return [];
    const base = this.base(userId);
    const raws = (await this.run('listTokens', `${base}tokens`, base, now, this.retention)) as string[];
    // Same order as the memory store (the sorted set breaks createdAt ties by byte order).
    return raws.map((raw) => JSON.parse(raw) as TokenRecord).sort(byCreation);
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
    )) as string | null;
    return raw === null ? null : (JSON.parse(raw) as TokenRecord);
  }

  async revokeToken(userId: string, id: string, by: string, now: number): Promise<TokenRecord | null> {
    if (!taggable(userId)) return null;
    checkTime('now', now);
    const base = this.base(userId);
    const raw = (await this.run('revokeToken', `${base}t:${id}`, base, by, now, this.retention)) as string | null;
    return raw === null ? null : (JSON.parse(raw) as TokenRecord);
  }

  async revokeTokenByHash(userId: string, hash: string, by: string, now: number): Promise<boolean> {
    if (!taggable(userId)) return false;
    checkTime('now', now);
    const base = this.base(userId);
    return (await this.run('revokeTokenByHash', `${base}h:${hash}`, base, by, now, this.retention)) === 1;
  }

  async revokeUserTokens(userId: string, by: string, now: number): Promise<number> {
    if (!taggable(userId)) return 0;
    checkTime('now', now);
    const base = this.base(userId);
    return (await this.run('revokeUserTokens', `${base}tokens`, base, by, now, this.retention)) as number;
  }

  async useToken(userId: string, hash: string, now: number, ip: string): Promise<TokenUse | null> {
    if (!taggable(userId)) return null;
    checkTime('now', now);
    const base = this.base(userId);
    const reply = (await this.run('useToken', `${base}h:${hash}`, `${base}user`, base, now, ip, this.retention)) as
      | [string, string]
      | null;
    if (!reply) return null;
    return { token: JSON.parse(reply[0]) as TokenRecord, user: JSON.parse(reply[1]) as UserRecord };
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
    const commands: Promise<unknown>[] = [];
    await this.call('providerUpsert', async () => {
      const pipeline = this.redis.pipeline();
      pipeline.del(key);
      pipeline.hset(key, 'p', JSON.stringify(payload));
      if (ttl) pipeline.expire(key, ttl);
      await pipeline.exec().then((results) => results?.forEach(([err]) => { if (err) throw err; }));
      if (payload.grantId) {
        const grantKey = `${this.prefix}o:g:${payload.grantId}`;
        commands.push(this.redis.sadd(grantKey, key));
        // The grant index lives as long as its longest-lived member.
        if (ttl) commands.push(this.redis.expire(grantKey, ttl, 'NX'), this.redis.expire(grantKey, ttl, 'GT'));
        else commands.push(this.redis.persist(grantKey));
      }
      for (const index of ['userCode', 'uid'] as const) {
        const value = payload[index];
        if (typeof value === 'string') {
          const indexKey = `${this.prefix}o:${model}:${index}:${value}`;
          commands.push(ttl ? this.redis.set(indexKey, id, 'EX', ttl) : this.redis.set(indexKey, id));
        }
      }
      await Promise.all(commands);
    });
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
    return this.call('providerConsume', async () => {
      if (!(await this.redis.hsetnx(key, 'c', String(consumedAt)))) return false;
      if (await this.redis.hexists(key, 'p')) return true;
      await this.redis.del(key); // there was no record: do not leave a stray field behind
      return false;
    });
  }

  async providerDestroy(model: string, id: string): Promise<void> {
    await this.call('providerDestroy', () => this.redis.del(this.providerKey(model, id)));
  }

  async providerRevokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `${this.prefix}o:g:${grantId}`;
    await this.call('providerRevokeByGrantId', async () => {
      const members = await this.redis.smembers(grantKey);
      await Promise.all(members.map((key) => this.redis.del(key)));
      await this.redis.del(grantKey);
    });
  }

  // ---- settings ------------------------------------------------------------------------------
  async getSetting(name: string): Promise<string | null> {
    return this.call('getSetting', () => this.redis.get(`${this.prefix}set:${name}`));
  }

  async initSetting(name: string, value: string): Promise<string> {
    const key = `${this.prefix}set:${name}`;
    return this.call('initSetting', async () => {
      await this.redis.set(key, value, 'NX');
      return (await this.redis.get(key)) ?? value;
    });
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.call('setSetting', () => this.redis.set(`${this.prefix}set:${name}`, value));
  }

  // ---- lifecycle -----------------------------------------------------------------------------
  async ping(): Promise<void> {
    await this.call('ping', () => this.redis.ping());
  }

  /** Closes the client (the store owns it, also when it was passed to the constructor). */
  async close(): Promise<void> {
    try {
      await this.call('close', () => this.redis.quit());
    } catch {
      // Unreachable Redis: nothing to say goodbye to.
    } finally {
      this.redis.disconnect();
    }
  }
}
