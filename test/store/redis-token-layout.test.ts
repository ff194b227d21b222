/**
 * The Redis token layout: active tokens and retained (revoked/expired) records in two sorted
 * sets, and the in-place upgrade of a store written when one set held both. Real Redis at
 * 127.0.0.1:6379, one random key prefix per test, deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { STEP } from '../../src/store/redis/scripts.js';
import { Conflict } from '../../src/errors.js';
import type { TokenRecord } from '../../src/store/store.js';
import { AUDIT_RETENTION_MS, DAY, HOUR, LAST_USED_PRECISION_MS, base62, hex64, sampleUser } from './contract.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const EVERYTHING = { revoked: true, expired: true };
const ACTIVE_ONLY = { revoked: false, expired: false };

let admin: Redis;
beforeAll(async () => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5000 });
  await admin.ping();
});
afterAll(async () => {
  await admin.quit();
});

describe('RedisStore token layout', () => {
  let prefix: string;
  let store: RedisStore;
  let now: number;

  beforeEach(() => {
    prefix = `tessera-test:${randomUUID()}:`;
    store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 5000 });
    now = Date.now();
  });
  afterEach(async () => {
    await store.close();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.unlink(...keys);
  });

  const createUser = async () => {
    const user = sampleUser(now);
    await store.createUser(user);
    return user;
  };
  const token = (userId: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
    id: base62(16), userId, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'ada', hash: hex64(), ...over,
  });

  it('moves records left in the one set by the previous version to the retained set on first use', async () => {
    const user = sampleUser(now);
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const live = token(user.id, { createdAt: now - 3 });
    await store.insertToken(live, { max: 10, onLimit: 'refuse' }, now);
    // What the previous version left behind: revoked and expired records in the `tokens` set.
    const revoked = token(user.id, { createdAt: now - 2, revokedAt: now - HOUR, revokedBy: 'ada' });
    const expired = token(user.id, { createdAt: now - 1, expiresAt: now - HOUR });
    for (const t of [revoked, expired]) {
      await admin.set(`${tag}t:${t.id}`, JSON.stringify(t), 'PXAT', (t.revokedAt ?? t.expiresAt) + AUDIT_RETENTION_MS);
      await admin.zadd(`${tag}tokens`, t.createdAt, t.id);
    }

    const active = await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now);
    expect(active.tokens.map((t) => t.id)).toEqual([live.id]);
    expect(await admin.zrange(`${tag}tokens`, 0, -1)).toEqual([live.id]);
    expect(Number(await admin.zscore(`${tag}retained`, revoked.id))).toBe(revoked.revokedAt! + AUDIT_RETENTION_MS);
    expect(Number(await admin.zscore(`${tag}retained`, expired.id))).toBe(expired.expiresAt + AUDIT_RETENTION_MS);

    const all = await store.listTokenPage(user.id, { limit: 10, include: EVERYTHING }, now);
    expect(all.tokens[0]!.id).toBe(live.id);
    expect(all.tokens.slice(1).map((t) => t.id).sort()).toEqual([revoked.id, expired.id].sort());
    // The full listing (exports) still sees every kept record.
    expect((await store.listTokens(user.id, now)).map((t) => t.id).sort()).toEqual([live.id, revoked.id, expired.id].sort());
  });

  it('keeps the expiry index with the active set: sliding use moves it, expiry and revocation empty it', async () => {
    const user = sampleUser(now);
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const sliding = token(user.id, { expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + DAY, expiresAt: now + HOUR });
    const short = token(user.id, { expiresAt: now + HOUR });
    for (const t of [sliding, short]) await store.insertToken(t, { max: 10, onLimit: 'refuse' }, now);
    now += 30 * 60_000;
    await store.useToken(user.id, sliding.hash, now, '10.0.0.1');
    expect(Number(await admin.zscore(`${tag}expiry`, sliding.id))).toBe(now + HOUR);
    // Past the short one's expiry, a create moves it to the retained set without a full walk.
    now += HOUR;
    await store.insertToken(token(user.id), { max: 10, onLimit: 'refuse' }, now);
    expect(await admin.zscore(`${tag}expiry`, short.id)).toBeNull();
    expect(await admin.zscore(`${tag}retained`, short.id)).not.toBeNull();
    expect(await admin.zcard(`${tag}expiry`)).toBe(await admin.zcard(`${tag}tokens`));
    await store.revokeToken(user.id, sliding.id, 'ada', now);
    expect(await admin.zscore(`${tag}expiry`, sliding.id)).toBeNull();
    expect(await admin.zcard(`${tag}expiry`)).toBe(1);
  });

  it('never reads a retained record to create a token or list the active ones', async () => {
    const user = sampleUser(now);
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const first = token(user.id);
    await store.insertToken(first, { max: 10, onLimit: 'refuse' }, now);
    // A retained record no script could decode: any read of it would fail the call.
    const poison = base62(16);
    await admin.set(`${tag}t:${poison}`, 'not json', 'PX', DAY);
    await admin.zadd(`${tag}retained`, now + DAY, poison);

    await store.insertToken(token(user.id), { max: 10, onLimit: 'refuse' }, now);
    expect((await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now)).tokens).toHaveLength(2);
    await store.revokeToken(user.id, first.id, 'ada', now);
    expect((await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now)).tokens).toHaveLength(1);
    // Asking for retained records does read it, and says so.
    await expect(store.listTokenPage(user.id, { limit: 10, include: EVERYTHING }, now)).rejects.toThrow();
  });

  it('moves at most STEP expired tokens per script call, and counts the rest as expired by the index', async () => {
    const user = await createUser();
    const tag = `${prefix}{${user.id}}:`;
    const loose = { max: 1000, onLimit: 'refuse' } as const;
    const batch = 3 * STEP + 5;
    for (let i = 0; i < batch; i++) await store.insertToken(token(user.id, { createdAt: now - 1000 + i, expiresAt: now + HOUR }), loose, now);
    const live = [token(user.id), token(user.id)];
    for (const t of live) await store.insertToken(t, loose, now);
    now += 2 * HOUR;

    // A refused insert is one script call: it moved STEP of them, and still counted 2 active.
    await expect(store.insertToken(token(user.id), { max: 2, onLimit: 'refuse' }, now)).rejects.toBeInstanceOf(Conflict);
    expect(await admin.zcard(`${tag}retained`)).toBe(STEP);
    expect(await admin.zcard(`${tag}expiry`)).toBe(batch + 2 - STEP);
    // One more call: STEP more moved, 2 active < 3, so the token goes in.
    await store.insertToken(token(user.id), { max: 3, onLimit: 'refuse' }, now);
    expect(await admin.zcard(`${tag}retained`)).toBe(2 * STEP);
    expect(await admin.zcard(`${tag}tokens`)).toBe(batch + 3 - 2 * STEP);
    expect(await admin.zcard(`${tag}expiry`)).toBe(await admin.zcard(`${tag}tokens`));
    // A listing moves the rest (several calls) before it reads a page.
    expect((await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now)).tokens).toHaveLength(3);
    expect(await admin.zcard(`${tag}tokens`)).toBe(3);
    expect(await admin.zcard(`${tag}retained`)).toBe(batch);
  });

  it('forgets at most STEP retained records per call, and never lists one past its horizon', async () => {
    const user = await createUser();
    const tag = `${prefix}{${user.id}}:`;
    const batch = 2 * STEP + 5;
    for (let i = 0; i < batch; i++) {
      const t = token(user.id);
      await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
      await store.revokeToken(user.id, t.id, 'ada', now);
    }
    now += AUDIT_RETENTION_MS;
    const kept = token(user.id);
    // Redis has not expired the records yet (their PXAT is in real time, the clock is injected).
    await store.insertToken(kept, { max: 1000, onLimit: 'refuse' }, now);
    expect(await admin.zcard(`${tag}retained`)).toBe(batch - STEP);
    const page = await store.listTokenPage(user.id, { limit: 100, include: EVERYTHING }, now);
    expect(page.tokens.map((t) => t.id)).toEqual([kept.id]);
    expect(page.next).toBeUndefined();
    expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([kept.id]);
  });

  it('revokes all of a user\'s tokens in steps: the same records as one call would leave', async () => {
    const user = await createUser();
    const tag = `${prefix}{${user.id}}:`;
    const batch = 2 * STEP + 3;
    const made: TokenRecord[] = [];
    for (let i = 0; i < batch; i++) {
      const t = token(user.id, { createdAt: now - 100 + i });
      await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
      made.push(t);
    }
    expect(await store.revokeUserTokens(user.id, 'root', now)).toBe(batch);
    expect(await admin.zcard(`${tag}tokens`)).toBe(0);
    expect(await admin.zcard(`${tag}expiry`)).toBe(0);
    expect(await admin.hlen(`${tag}hashes`)).toBe(0);
    expect(await admin.zrange(`${tag}retained`, 0, -1, 'WITHSCORES')).toHaveLength(2 * batch);
    for (const t of made) expect(Number(await admin.zscore(`${tag}retained`, t.id))).toBe(now + AUDIT_RETENTION_MS);
  });

  it('evicting for a lowered limit drops members whose record is gone, and never repeats itself forever', async () => {
    const user = await createUser();
    const tag = `${prefix}{${user.id}}:`;
    const made: TokenRecord[] = [];
    for (let i = 0; i < 3 * STEP; i++) {
      const t = token(user.id, { createdAt: now - 3 * STEP + i });
      await store.insertToken(t, { max: 100, onLimit: 'refuse' }, now);
      made.push(t);
    }
    // The oldest STEP records vanish behind Tessera's back (an eviction policy, a manual DEL),
    // their members and future expiry scores left in place.
    await admin.del(...made.slice(0, STEP).map((t) => `${tag}t:${t.id}`));
    const fresh = token(user.id, { createdAt: now + 1 });
    const { evicted } = await store.insertToken(fresh, { max: 5, onLimit: 'evict' }, now);
    // Slots held by vanished records were freed without counting as evictions.
    expect(evicted).toEqual(made.slice(STEP, 3 * STEP - 4).map((t) => t.id));
    expect(await admin.zrange(`${tag}tokens`, 0, -1)).toEqual([...made.slice(3 * STEP - 4).map((t) => t.id), fresh.id]);
    expect(await admin.zcard(`${tag}expiry`)).toBe(5);
  });

  it('a rotation grace that arrives after a sweep retired the token indexes nothing again, and tolerates a record without a hash', async () => {
    const user = await createUser();
    const tag = `${prefix}{${user.id}}:`;
    const t = token(user.id, { expiresAt: now + 1000 });
    await store.insertToken(t, { max: 10, onLimit: 'refuse' }, now);
    // A call with a later clock (another gateway) retires it first...
    await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now + 2000);
    expect(await admin.zscore(`${tag}retained`, t.id)).not.toBeNull();
    // ...then the rotation, whose clock read came before the token's end, shortens it.
    const shortened = await store.shortenTokenExpiry(user.id, t.id, now + 500, now);
    expect(shortened?.expiresAt).toBe(now + 500);
    expect(await admin.zscore(`${tag}expiry`, t.id)).toBeNull();
    expect(await admin.hlen(`${tag}hashes`)).toBe(0);
    expect(await admin.zcard(`${tag}expiry`)).toBe(await admin.zcard(`${tag}tokens`));

    // An active record with no hash field (never written by Tessera) is shortened, not an error.
    const bare = token(user.id, { createdAt: now + 1 });
    await store.insertToken(bare, { max: 10, onLimit: 'refuse' }, now);
    await admin.hdel(`${tag}t:${bare.id}`, 'H');
    await expect(store.shortenTokenExpiry(user.id, bare.id, now + 600, now)).resolves.toMatchObject({ id: bare.id, expiresAt: now + 600 });
  });

  it('a full walk drops expiry members that have no place in the active set, so it is not repeated', async () => {
    const user = await createUser();
    const tag = `${prefix}{${user.id}}:`;
    const t = token(user.id);
    await store.insertToken(t, { max: 10, onLimit: 'refuse' }, now);
    await admin.zadd(`${tag}expiry`, now + DAY, 'stray-id');
    await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now);
    expect(await admin.zrange(`${tag}expiry`, 0, -1)).toEqual([t.id]);
  });
});
