/**
 * The embedded store: everything in this process, lost on restart. The default when no Redis is
 * configured, and the reference the Redis store is held to by the contract suite. Records are
 * copied in and out so callers can never mutate stored state by accident.
 */
import { EventEmitter } from 'node:events';
import { Conflict, NotFound } from '../../errors.js';
import type { Counter, ProviderGrantRecords, ProviderPayload, RefreshOutcome, SessionUse, Store, TokenLimit, TokenPage, TokenPageQuery, TokenUse } from '../store.js';
import { checkPageLimit, parseTokenCursor } from '../token-cursor.js';
import { tokenPage } from './token-pages.js';
import { checkUserPageLimit, formatUserCursor, parseUserCursor, userEntry, type UserPage, type UserPageQuery } from '../user-pages.js';
import { SHA256_HEX, type SessionRecord, type TokenRecord, type UserRecord } from '../records.js';
import { usernameKey } from '../usernames.js';
import type { AuditEntry, AuditRange } from '../audit-entries.js';
import { MemoryAuditLog } from './memory-audit.js';
import { MemoryOutbox } from './memory-outbox.js';
import type { OutboxAddResult, OutboxItem } from '../outbox.js';
import { MemoryShortLived } from './memory-short-lived.js';
import type { TransientValue } from '../short-lived.js';

interface AccessEntry {
  sessionId: string;
  expiresAt: number;
}

interface UserSpace {
  tokens: Map<string, TokenRecord>;
  /** secret hash → token id, only while the token is usable. */
  hashes: Map<string, string>;
  sessions: Map<string, SessionRecord>;
  access: Map<string, AccessEntry>;
  /** refresh hash (every rotation) → session id, for reuse detection. */
  refresh: Map<string, string>;
}

const copy = <T>(value: T): T => structuredClone(value);

/** Oldest first; ties by id in byte order, as Redis sorts members of equal score. */
const byAge = (a: TokenRecord, b: TokenRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export interface MemoryStoreOptions {
  /** How long revoked/expired token records stay listable (ms). */
  auditRetentionMs: number;
  /** `useToken` records last use to this precision (ms); default 0: every check writes. See store.ts. */
  lastUsedPrecisionMs?: number;
}

export class MemoryStore implements Store {
  private readonly users = new Map<string, UserRecord>();
  private readonly usernames = new Map<string, string>();
  /** `listUserPage`'s order, built on demand; dropped whenever `usernames` changes. */
  private sortedUsers?: { entry: string; bytes: Buffer; id: string }[];
  private readonly spaces = new Map<string, UserSpace>();
  private readonly counters = new Map<string, { count: number; resetAt: number }>();
  /** Provider records and their secondary indexes; expiry by the real clock, as oidc-provider's own. */
  private readonly provider = new Map<string, { payload: ProviderPayload; expiresAt: number }>();
  private readonly providerIndex = new Map<string, { key: string; expiresAt: number }>();
  private readonly grants = new Map<string, Set<string>>();
  private readonly settings = new Map<string, string>();
  /** Instances sharing this store (tests) hear each other's setting changes here. */
  private readonly settingWatchers = new EventEmitter().setMaxListeners(0);
  private providerWrites = 0;

  constructor(private readonly options: MemoryStoreOptions) {}

  private space(userId: string): UserSpace {
    let space = this.spaces.get(userId);
    if (!space) {
      space = { tokens: new Map(), hashes: new Map(), sessions: new Map(), access: new Map(), refresh: new Map() };
      this.spaces.set(userId, space);
    }
    return space;
  }

  /** Records past their audit retention are gone, as Redis would have expired them. */
  private kept(token: TokenRecord, now: number): boolean {
    return (token.revokedAt ?? token.expiresAt) + this.options.auditRetentionMs > now;
  }

  private markRevoked(space: UserSpace, token: TokenRecord, by: string, now: number): void {
    token.revokedAt = now;
    token.revokedBy = by;
    space.hashes.delete(token.hash);
  }

  // ---- users ---------------------------------------------------------------------------------
  async createUser(user: UserRecord): Promise<void> {
    if (this.usernames.has(usernameKey(user.username)) || this.users.has(user.id)) throw new Conflict(`user ${user.username} already exists (usernames ignore case)`);
    this.users.set(user.id, copy(user));
    this.usernames.set(usernameKey(user.username), user.id);
    this.sortedUsers = undefined;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const user = this.users.get(id);
    return user ? copy(user) : null;
  }

  async findUserByName(username: string): Promise<UserRecord | null> {
    const id = this.usernames.get(usernameKey(username));
    return id ? this.getUser(id) : null;
  }

  async putUser(user: UserRecord): Promise<void> {
    const existing = this.users.get(user.id);
    if (!existing || existing.username !== user.username) throw new NotFound(`user ${user.username} not found`);
    this.users.set(user.id, copy(user));
  }

  async deleteUser(id: string, by: string, now: number): Promise<void> {
    const user = this.users.get(id);
    if (!user) throw new NotFound('user not found');
    await this.revokeUserTokens(id, by, now);
    this.users.delete(id);
    this.usernames.delete(usernameKey(user.username));
    this.sortedUsers = undefined;
  }

  /** The same walk as Redis's index (user-pages.ts): by index entry, in UTF-8 byte order. */
  async listUserPage(query: UserPageQuery): Promise<UserPage> {
    checkUserPageLimit(query.limit);
    const after = parseUserCursor(query.cursor);
    const prefix = query.prefix === undefined ? undefined : Buffer.from(usernameKey(query.prefix), 'utf8');
    const order = this.listingOrder();
    // The first entry past the cursor and at or past the prefix, by binary search.
    const from = [after === undefined ? undefined : Buffer.from(after, 'utf8'), prefix].filter((b) => b !== undefined);
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const bytes = order[mid]!.bytes;
      const before = from.some((b, i) => (i === 0 && after !== undefined ? Buffer.compare(bytes, b) <= 0 : Buffer.compare(bytes, b) < 0));
      if (before) lo = mid + 1;
      else hi = mid;
    }
    const matching = (i: number) => i < order.length && (!prefix || order[i]!.bytes.subarray(0, prefix.length).equals(prefix));
    const users: UserRecord[] = [];
    let i = lo;
    for (; users.length < query.limit && matching(i); i++) users.push(copy(this.users.get(order[i]!.id)!));
    return matching(i) ? { users, next: formatUserCursor(order[i - 1]!.entry) } : { users };
  }

  /** The index entries sorted, kept until a user is created or deleted. */
  private listingOrder(): { entry: string; bytes: Buffer; id: string }[] {
    this.sortedUsers ??= [...this.usernames]
      .map(([key, id]) => ({ entry: userEntry(key, id), bytes: Buffer.from(userEntry(key, id), 'utf8'), id }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    return this.sortedUsers;
  }

  // ---- tokens --------------------------------------------------------------------------------
  async insertToken(token: TokenRecord, limit: TokenLimit, now: number): Promise<{ evicted: string[] }> {
    // The same refusal as the Redis store's (records.ts): only a SHA-256 in lowercase hex.
    if (!SHA256_HEX.test(token.hash)) throw new RangeError('token.hash must be a SHA-256 in lowercase hex');
    const space = this.space(token.userId);
    const active = [...space.tokens.values()]
      .filter((t) => !t.revokedAt && t.expiresAt > now)
      .sort(byAge);
    const evicted: string[] = [];
    if (active.length >= limit.max) {
      if (limit.onLimit === 'refuse') throw new Conflict(`token limit reached (${limit.max} active tokens)`);
      for (const old of active.slice(0, active.length - limit.max + 1)) {
        this.markRevoked(space, old, 'system:token-limit', now);
        evicted.push(old.id);
      }
    }
    space.tokens.set(token.id, copy(token));
    space.hashes.set(token.hash, token.id);
    return { evicted };
  }

  async getToken(userId: string, id: string): Promise<TokenRecord | null> {
    const token = this.spaces.get(userId)?.tokens.get(id);
    return token ? copy(token) : null;
  }

  async listTokens(userId: string, now: number): Promise<TokenRecord[]> {
    const space = this.spaces.get(userId);
    if (!space) return [];
    for (const [id, token] of space.tokens) if (!this.kept(token, now)) space.tokens.delete(id);
    return [...space.tokens.values()].map(copy).sort(byAge);
  }

  async listTokenPage(userId: string, query: TokenPageQuery, now: number): Promise<TokenPage> {
    checkPageLimit(query.limit);
    const after = parseTokenCursor(query.cursor);
    const space = this.spaces.get(userId);
    if (!space) return { tokens: [] };
    for (const [id, token] of space.tokens) if (!this.kept(token, now)) space.tokens.delete(id);
    const page = tokenPage(space.tokens.values(), query, after, now, this.options.auditRetentionMs);
    return { ...page, tokens: page.tokens.map(copy) };
  }

  async updateToken(userId: string, id: string, patch: { name?: string; description?: string }): Promise<TokenRecord | null> {
    const token = this.spaces.get(userId)?.tokens.get(id);
    if (!token) return null;
    if (patch.name !== undefined) token.name = patch.name;
    if (patch.description !== undefined) token.description = patch.description;
    return copy(token);
  }

  async shortenTokenExpiry(userId: string, id: string, until: number, now: number): Promise<TokenRecord | null> {
    const token = this.spaces.get(userId)?.tokens.get(id);
    if (!token) return null;
    if (!token.revokedAt && token.expiresAt > now) {
      token.expiresAt = Math.min(token.expiresAt, until);
      if (token.maxLifetimeAt !== undefined) token.maxLifetimeAt = Math.min(token.maxLifetimeAt, until);
    }
    return copy(token);
  }

  async revokeToken(userId: string, id: string, by: string, now: number): Promise<TokenRecord | null> {
    const space = this.spaces.get(userId);
    const token = space?.tokens.get(id);
    if (!space || !token) return null;
    if (!token.revokedAt) this.markRevoked(space, token, by, now);
    return copy(token);
  }

  async revokeTokenByHash(userId: string, hash: string, by: string, now: number): Promise<boolean> {
    const id = this.spaces.get(userId)?.hashes.get(hash);
    if (!id) return false;
    return (await this.revokeToken(userId, id, by, now)) !== null;
  }

  async findTokenIdByHash(userId: string, hash: string): Promise<string | null> {
    return this.spaces.get(userId)?.hashes.get(hash) ?? null;
  }

  async revokeUserTokens(userId: string, by: string, now: number): Promise<number> {
    const space = this.spaces.get(userId);
    if (!space) return 0;
    let count = 0;
    for (const token of space.tokens.values()) {
      if (!token.revokedAt && token.expiresAt > now) {
        this.markRevoked(space, token, by, now);
        count++;
      }
    }
    return count;
  }

  async useToken(userId: string, hash: string, now: number, ip: string): Promise<TokenUse | null> {
    const space = this.spaces.get(userId);
    const id = space?.hashes.get(hash);
    const token = id ? space!.tokens.get(id) : undefined;
    if (!token || token.revokedAt || token.expiresAt <= now) return null;
    const user = this.users.get(userId);
    if (!user || !user.enabled || token.createdAt < (user.credentialsNotBefore ?? 0)) return null;
    // Same rule as the Redis script: no write within the precision from the IP already recorded.
    const recent = token.lastUsedAt !== undefined && token.lastUsedIp === ip && now >= token.lastUsedAt &&
      now - token.lastUsedAt < (this.options.lastUsedPrecisionMs ?? 0);
    if (!recent) {
      if (token.expiration === 'sliding' && token.slidingWindow !== undefined && token.maxLifetimeAt !== undefined) {
        token.expiresAt = Math.max(token.expiresAt, Math.min(now + token.slidingWindow, token.maxLifetimeAt));
      }
      token.lastUsedAt = now;
      token.lastUsedIp = ip;
    }
    // The hot path: records are flat (a user's only nested field is `groups`), so a shallow copy
    // keeps callers away from stored state at a fraction of structuredClone's cost.
    return { token: { ...token }, user: { ...user, groups: [...user.groups] } };
  }

  // ---- sessions ------------------------------------------------------------------------------
  async createSession(session: SessionRecord, accessHash: string, accessExpiresAt: number): Promise<void> {
    const space = this.space(session.userId);
    this.forgetEndedSessions(space, session.createdAt);
    space.sessions.set(session.id, copy(session));
    space.refresh.set(session.refreshHash, session.id);
    space.access.set(accessHash, { sessionId: session.id, expiresAt: accessExpiresAt });
  }

  /** What Redis would have expired: ended sessions, their refresh entries, expired access tokens. */
  private forgetEndedSessions(space: UserSpace, now: number): void {
    for (const [hash, entry] of space.access) if (entry.expiresAt <= now) space.access.delete(hash);
    for (const [id, session] of space.sessions) {
      if (session.expiresAt > now) continue;
      space.sessions.delete(id);
      for (const [hash, sid] of space.refresh) if (sid === id) space.refresh.delete(hash);
    }
  }

  /** A session usable at `now`: exists, not revoked or expired, owner enabled, not voided. */
  private liveSession(userId: string, sessionId: string, now: number): { session: SessionRecord; user: UserRecord } | null {
    const session = this.spaces.get(userId)?.sessions.get(sessionId);
    const user = this.users.get(userId);
    if (!session || session.revokedAt || session.expiresAt <= now) return null;
    if (!user || !user.enabled || session.createdAt < user.sessionsNotBefore) return null;
    if (session.createdAt < (user.credentialsNotBefore ?? 0)) return null;
    return { session, user };
  }

  async useAccessToken(userId: string, accessHash: string, now: number): Promise<SessionUse | null> {
    const entry = this.spaces.get(userId)?.access.get(accessHash);
    if (!entry || entry.expiresAt <= now) return null;
    const live = this.liveSession(userId, entry.sessionId, now);
    return live ? { session: copy(live.session), user: copy(live.user), accessExpiresAt: entry.expiresAt } : null;
  }

  async rotateRefreshToken(
    userId: string,
    refreshHash: string,
    next: { refreshHash: string; accessHash: string; accessExpiresAt: number },
    now: number,
  ): Promise<RefreshOutcome> {
    const space = this.spaces.get(userId);
    const sessionId = space?.refresh.get(refreshHash);
    if (!space || !sessionId) return { outcome: 'invalid' };
    const live = this.liveSession(userId, sessionId, now);
    if (!live) return { outcome: 'invalid' };
    if (live.session.refreshHash !== refreshHash) {
      live.session.revokedAt = now;
      return { outcome: 'reused' };
    }
    live.session.refreshHash = next.refreshHash;
    live.session.lastRefreshAt = now;
    space.refresh.set(next.refreshHash, sessionId);
    space.access.set(next.accessHash, { sessionId, expiresAt: next.accessExpiresAt });
    return { outcome: 'ok', session: copy(live.session) };
  }

  async findSessionByRefresh(userId: string, refreshHash: string): Promise<SessionRecord | null> {
    const space = this.spaces.get(userId);
    const sessionId = space?.refresh.get(refreshHash);
    const session = sessionId ? space!.sessions.get(sessionId) : undefined;
    return session ? copy(session) : null;
  }

  async revokeSession(userId: string, sessionId: string, now: number): Promise<void> {
    const session = this.spaces.get(userId)?.sessions.get(sessionId);
    if (session && !session.revokedAt) session.revokedAt = now;
  }

  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const sessions = [...(this.spaces.get(userId)?.sessions.values() ?? [])];
    return sessions.filter((s) => s.revokedAt === undefined && s.expiresAt > now).sort((a, b) => a.createdAt - b.createdAt).map(copy);
  }

  async revokeUserSessions(userId: string, now: number): Promise<number> {
    const space = this.spaces.get(userId);
    if (!space) return 0;
    let count = 0;
    for (const session of space.sessions.values()) {
      if (session.revokedAt === undefined && session.expiresAt > now) {
        session.revokedAt = now;
        count++;
      }
    }
    return count;
  }

  // ---- counters ------------------------------------------------------------------------------
  async hitCounter(key: string, windowMs: number, now: number, by = 1): Promise<Counter> {
    // Counters are keyed by client IP and username, which callers choose: sweep expired ones.
    if (this.counters.size > 10_000) for (const [k, c] of this.counters) if (c.resetAt <= now) this.counters.delete(k);
    let counter = this.counters.get(key);
    if (!counter || counter.resetAt <= now) {
      if (by < 0) return { count: 0, ttlMs: 0 };
      counter = { count: 0, resetAt: now + windowMs };
      this.counters.set(key, counter);
    }
    counter.count = Math.max(0, counter.count + by);
    return { count: counter.count, ttlMs: counter.resetAt - now };
  }

  async getCounter(key: string, now: number): Promise<Counter> {
    const counter = this.counters.get(key);
    if (!counter || counter.resetAt <= now) return { count: 0, ttlMs: 0 };
    return { count: counter.count, ttlMs: counter.resetAt - now };
  }

  async deleteCounter(key: string): Promise<void> {
    this.counters.delete(key);
  }

  // ---- provider records ----------------------------------------------------------------------
  private live<T extends { expiresAt: number }>(map: Map<string, T>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Drops expired provider records and index entries, as Redis would have expired them. */
  private sweepProvider(): void {
    const now = Date.now();
    for (const [key, entry] of this.provider) if (entry.expiresAt <= now) this.provider.delete(key);
    for (const [key, entry] of this.providerIndex) if (entry.expiresAt <= now) this.providerIndex.delete(key);
    for (const [grantId, members] of this.grants) {
      for (const key of members) if (!this.provider.has(key)) members.delete(key);
      if (members.size === 0) this.grants.delete(grantId);
    }
  }

  async providerUpsert(model: string, id: string, payload: ProviderPayload, ttlSeconds?: number): Promise<void> {
    // Sessions, codes and tokens pile up in a long-running embedded gateway: sweep now and then.
    if (++this.providerWrites % 1000 === 0) this.sweepProvider();
    const key = `${model}:${id}`;
    const expiresAt = ttlSeconds === undefined ? Infinity : Date.now() + ttlSeconds * 1000;
    this.provider.set(key, { payload: copy(payload), expiresAt });
    if (payload.grantId) {
      const members = this.grants.get(payload.grantId) ?? new Set();
      members.add(key);
      this.grants.set(payload.grantId, members);
    }
    if (payload.userCode) this.providerIndex.set(`${model}:userCode:${payload.userCode}`, { key, expiresAt });
    if (payload.uid) this.providerIndex.set(`${model}:uid:${payload.uid}`, { key, expiresAt });
  }

  async providerFind(model: string, id: string): Promise<ProviderPayload | null> {
    const entry = this.live(this.provider, `${model}:${id}`);
    return entry ? copy(entry.payload) : null;
  }

  async providerFindBy(model: string, index: 'userCode' | 'uid', value: string): Promise<ProviderPayload | null> {
    const pointer = this.live(this.providerIndex, `${model}:${index}:${value}`);
    const entry = pointer && this.live(this.provider, pointer.key);
    return entry ? copy(entry.payload) : null;
  }

  async providerConsume(model: string, id: string, consumedAt: number): Promise<boolean> {
    const entry = this.live(this.provider, `${model}:${id}`);
    if (!entry || entry.payload.consumed !== undefined) return false;
    entry.payload.consumed = consumedAt;
    return true;
  }

  async providerDestroy(model: string, id: string): Promise<void> {
    this.provider.delete(`${model}:${id}`);
  }

  async providerRevokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.grants.get(grantId) ?? []) this.provider.delete(key);
    this.grants.delete(grantId);
  }

  async providerRevokeByAccountId(accountId: string): Promise<{ grants: number; sessions: number }> {
    let grants = 0;
    let sessions = 0;
    for (const [key, entry] of this.provider) {
      if (entry.expiresAt <= Date.now() || entry.payload.accountId !== accountId) continue;
      const model = key.slice(0, key.indexOf(':'));
      if (model === 'Grant') {
        await this.providerRevokeByGrantId(key.slice(model.length + 1));
        this.provider.delete(key);
        grants++;
      } else if (model === 'Session') {
        this.provider.delete(key);
        sessions++;
      }
    }
    return { grants, sessions };
  }

  async providerGrantsOfAccount(accountId: string): Promise<ProviderGrantRecords[]> {
    const found: ProviderGrantRecords[] = [];
    for (const [key, entry] of this.provider) {
      if (!key.startsWith('Grant:') || entry.expiresAt <= Date.now() || entry.payload.accountId !== accountId) continue;
      const id = key.slice('Grant:'.length);
      const members = [...(this.grants.get(id) ?? [])].map((member) => this.live(this.provider, member)).filter((m) => m !== undefined);
      found.push({ id, grant: copy(entry.payload), members: members.map((m) => copy(m.payload)) });
    }
    return found;
  }

  // ---- settings ------------------------------------------------------------------------------
  async getSetting(name: string): Promise<string | null> {
    return this.settings.get(name) ?? null;
  }

  async initSetting(name: string, value: string): Promise<string> {
    if (!this.settings.has(name)) this.settings.set(name, value);
    return this.settings.get(name)!;
  }

  async setSetting(name: string, value: string): Promise<void> {
    this.settings.set(name, value);
  }

  // ---- outbox (memory-outbox.ts) -------------------------------------------------------------
  private readonly outbox = new MemoryOutbox();

  async outboxAdd(queue: string, id: string, payload: string, dueAt: number, max: number): Promise<OutboxAddResult> {
    return this.outbox.add(queue, id, payload, dueAt, max);
  }

  async outboxClaim(queue: string, now: number, leaseMs: number, count: number): Promise<OutboxItem[]> {
    return this.outbox.claim(queue, now, leaseMs, count);
  }

  async outboxRemove(queue: string, ids: string[]): Promise<number> {
    return this.outbox.remove(queue, ids);
  }

  async outboxDefer(queue: string, id: string, dueAt: number): Promise<void> {
    this.outbox.defer(queue, id, dueAt);
  }

  async outboxPeek(queue: string, count: number): Promise<OutboxItem[]> {
    return this.outbox.peek(queue, count);
  }

  async outboxSize(queue: string): Promise<number> {
    return this.outbox.size(queue);
  }

  async deliveryLogPush(log: string, entry: string, max: number): Promise<void> {
    this.outbox.logPush(log, entry, max);
  }

  async deliveryLogRead(log: string, count: number): Promise<string[]> {
    return this.outbox.logRead(log, count);
  }

  // ---- audit trail (memory-audit.ts) ---------------------------------------------------------
  private readonly auditLog = new MemoryAuditLog();

  async auditAppend(event: string, now: number, retentionMs: number, replaces?: string): Promise<string> {
    return this.auditLog.append(event, now, retentionMs, replaces);
  }

  async auditRead(range: AuditRange): Promise<AuditEntry[]> {
    return this.auditLog.read(range);
  }

  async compareAndSetSetting(name: string, expected: string | null, value: string): Promise<boolean> {
    if ((this.settings.get(name) ?? null) !== expected) return false;
    this.settings.set(name, value);
    // After the write, from a fresh task, as a Redis subscriber would hear it.
    setImmediate(() => this.settingWatchers.emit('changed', name));
    return true;
  }

  async watchSettings(listener: (name: string) => void): Promise<() => Promise<void>> {
    this.settingWatchers.on('changed', listener);
    return async () => void this.settingWatchers.off('changed', listener);
  }

  // ---- claims, markers, transient values (memory-short-lived.ts) -------------------------------
  private readonly shortLived = new MemoryShortLived();

  async claimOnce(key: string, ttlMs: number, now: number): Promise<boolean> {
    return this.shortLived.claimOnce(key, ttlMs, now);
  }

  async setMarker(key: string, ttlMs: number, now: number): Promise<void> {
    this.shortLived.setMarker(key, ttlMs, now);
  }

  async hasMarker(key: string, now: number): Promise<boolean> {
    return this.shortLived.hasMarker(key, now);
  }

  async clearMarker(key: string): Promise<void> {
    this.shortLived.clearMarker(key);
  }

  async putTransient(kind: string, id: string, value: TransientValue, ttlMs: number, now: number): Promise<void> {
    this.shortLived.put(kind, id, value, ttlMs, now);
  }

  async peekTransient(kind: string, id: string, now: number): Promise<TransientValue | null> {
    return this.shortLived.peek(kind, id, now);
  }

  async takeTransient(kind: string, id: string, now: number): Promise<TransientValue | null> {
    return this.shortLived.take(kind, id, now);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
