/**
 * The compact token record and the records the previous version wrote (JSON strings, one
 * `h:<hash>` key per token): the new store reads, checks, lists and revokes them, migrates them
 * on their next whole write, and a gateway of the previous version beside a new one (a rolling
 * upgrade) honours revocations either makes. Real Redis at 127.0.0.1:6379, one random key prefix
 * per test, deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { HASH_FIELD_CHARS } from '../../src/store/redis/token-fields.js';
import type { TokenRecord, UserRecord } from '../../src/store/store.js';
import { PreviousGateway } from '../fixtures/previous-token-format.js';
import { AUDIT_RETENTION_MS, DAY, HOUR, LAST_USED_PRECISION_MS, MINUTE, base62, hex64, sampleUser } from './contract.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const EVERYTHING = { revoked: true, expired: true };
const ACTIVE_ONLY = { revoked: false, expired: false };
const LIMIT = { max: 100, onLimit: 'refuse' } as const;

let admin: Redis;
beforeAll(async () => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5000 });
  await admin.ping();
});
afterAll(async () => {
  await admin.quit();
});

describe('RedisStore token format', () => {
  let prefix: string;
  let store: RedisStore;
  let old: PreviousGateway;
  let oldClient: Redis;
  let now: number;
  let user: UserRecord;
  let tag: string;

  beforeEach(async () => {
    prefix = `tessera-test:${randomUUID()}:`;
    store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 5000 });
    oldClient = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5000 });
    old = new PreviousGateway(oldClient, prefix, AUDIT_RETENTION_MS, LAST_USED_PRECISION_MS);
    now = Date.now();
    user = sampleUser(now);
    await store.createUser(user);
    tag = `${prefix}{${user.id}}:`;
  });
  afterEach(async () => {
    await store.close();
    await oldClient.quit();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.unlink(...keys);
  });

  const token = (over: Partial<TokenRecord> = {}): TokenRecord => ({
    id: base62(12), userId: user.id, name: 'ci deploy', description: '', scope: 'api:read', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'ada', hash: hex64(), ...over,
  });

  it('stores a record as a small hash and reads every field back as written', async () => {
    const full = token({
      description: 'déploiement — 🚀', scope: 'api:read api:write', expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + DAY, expiresAt: now + HOUR,
      parentId: base62(12), rotatedFrom: base62(12), lastUsedAt: now - 1, lastUsedIp: '2001:db8::1',
    });
    const bare = token({ name: '', scope: '' });
    for (const t of [full, bare]) await store.insertToken(t, LIMIT, now);
    expect(await store.getToken(user.id, full.id)).toEqual(full);
    expect(await store.getToken(user.id, bare.id)).toEqual(bare);
    expect(await admin.object('ENCODING', `${tag}t:${full.id}`)).toBe('listpack');
    // Defaults (empty strings, 'hard') are not stored; id and user id are in the key.
    expect(Object.keys(await admin.hgetall(`${tag}t:${bare.id}`)).sort()).toEqual(['b', 'c', 'e', 'h']);
    const revoked = await store.revokeToken(user.id, full.id, 'ada', now);
    expect(revoked).toEqual({ ...full, revokedAt: now, revokedBy: 'ada' });
    expect(await store.getToken(user.id, full.id)).toEqual(revoked);
  });

  it('a check within the precision from the recorded IP writes nothing; otherwise only the last-use fields', async () => {
    const t = token();
    await store.insertToken(t, LIMIT, now);
    await store.useToken(user.id, t.hash, now, '10.0.0.1');
    const stored = await admin.hgetall(`${tag}t:${t.id}`);
    expect(stored).toMatchObject({ u: String(now), i: '10.0.0.1' });
    // Watch what Redis is asked to change: a write replicates (and reaches the AOF) as the commands the script ran.
    const monitor = await admin.duplicate().monitor();
    const writes: string[] = [];
    const marker = `done-${randomUUID()}`;
    const seenAll = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (/^(hset|hdel|set|del|pexpireat|zadd)$/i.test(args[0]!)) writes.push([args[0]!.toLowerCase(), ...args.slice(1)].join(' '));
        if (args[1] === marker) resolve();
      });
    });
    await store.useToken(user.id, t.hash, now + MINUTE - 1, '10.0.0.1');
    await store.useToken(user.id, t.hash, now + MINUTE - 1, '10.0.0.2');
    await store.useToken(user.id, t.hash, now + 2 * MINUTE, '10.0.0.2');
    await admin.echo(marker);
    await seenAll;
    monitor.disconnect();
    expect(writes).toEqual([
      `hset ${tag}t:${t.id} u ${now + MINUTE - 1} i 10.0.0.2`,
      `hset ${tag}t:${t.id} u ${now + 2 * MINUTE} i 10.0.0.2`,
    ]);
  });

  it('reads, checks, lists and revokes records written by the previous version', async () => {
    const a = token({ createdAt: now - 3 });
    const b = token({ createdAt: now - 2 });
    const c = token({ createdAt: now - 1, expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + DAY, expiresAt: now + HOUR });
    const gone = token({ createdAt: now - 4, revokedAt: now - HOUR, revokedBy: 'ada' });
    for (const t of [a, b, c, gone]) await old.insertToken(t, now);
    expect(await admin.type(`${tag}t:${a.id}`)).toBe('string');
    expect(await admin.get(`${tag}h:${a.hash}`)).toBe(a.id);

    expect(await store.getToken(user.id, a.id)).toEqual(a);
    expect(await store.findTokenIdByHash(user.id, a.hash)).toBe(a.id);
    const page = await store.listTokenPage(user.id, { limit: 10, include: EVERYTHING }, now);
    expect(page.tokens.map((t) => t.id)).toEqual([a.id, b.id, c.id, gone.id]);
    expect((await store.listTokens(user.id, now)).map((t) => t.id).sort()).toEqual([a, b, c, gone].map((t) => t.id).sort());
    expect(await store.useToken(user.id, gone.hash, now, '10.0.0.1')).toBeNull();
    // Reading and listing rewrite nothing.
    expect(await admin.type(`${tag}t:${a.id}`)).toBe('string');

    // The first check rewrites the record whole, as a hash found through the new lookup.
    const used = await store.useToken(user.id, a.hash, now, '10.0.0.1');
    expect(used?.token).toEqual({ ...a, lastUsedAt: now, lastUsedIp: '10.0.0.1' });
    expect(await admin.type(`${tag}t:${a.id}`)).toBe('hash');
    expect(await admin.exists(`${tag}h:${a.hash}`)).toBe(0);
    expect(await admin.hget(`${tag}hashes`, a.hash.slice(0, HASH_FIELD_CHARS))).toBe(a.id);
    expect(await admin.pexpiretime(`${tag}t:${a.id}`)).toBe(a.expiresAt + AUDIT_RETENTION_MS);
    expect((await store.useToken(user.id, a.hash, now + 1, '10.0.0.1'))?.token).toEqual(used?.token);
    // A sliding one moves its expiry as it migrates.
    const slid = await store.useToken(user.id, c.hash, now + 30 * MINUTE, '10.0.0.1');
    expect(slid?.token.expiresAt).toBe(now + 30 * MINUTE + HOUR);
    expect(await admin.zscore(`${tag}expiry`, c.id)).toBe(String(now + 30 * MINUTE + HOUR));

    // Renaming keeps an old record JSON; revoking (by id and by secret) works on either kind.
    expect(await store.updateToken(user.id, b.id, { name: 'renamed' })).toEqual({ ...b, name: 'renamed' });
    expect(await admin.type(`${tag}t:${b.id}`)).toBe('string');
    expect(await store.revokeTokenByHash(user.id, b.hash, 'ada', now)).toBe(true);
    expect(await store.useToken(user.id, b.hash, now, '10.0.0.1')).toBeNull();
    expect(await store.getToken(user.id, b.id)).toEqual({ ...b, name: 'renamed', revokedAt: now, revokedBy: 'ada' });
    expect(await store.revokeToken(user.id, a.id, 'ada', now)).toMatchObject({ id: a.id, revokedAt: now });
    expect(await store.useToken(user.id, a.hash, now, '10.0.0.1')).toBeNull();
    expect((await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now)).tokens.map((t) => t.id)).toEqual([c.id]);
  });

  it('an old and a new gateway on one Redis: each honours the revocations the other makes', async () => {
    // Made by the old gateway, revoked by the new one (by secret): the old one stops accepting it.
    const t1 = token();
    await old.insertToken(t1, now);
    expect(await old.useToken(user.id, t1.hash, now, '10.0.0.1')).not.toBeNull();
    expect(await store.revokeTokenByHash(user.id, t1.hash, 'ada', now)).toBe(true);
    expect(await old.useToken(user.id, t1.hash, now, '10.0.0.1')).toBeNull();

    // Made, used and revoked by the old gateway: the new one refuses it and shows it revoked.
    const t2 = token();
    await old.insertToken(t2, now);
    expect(await old.useToken(user.id, t2.hash, now, '10.0.0.1')).not.toBeNull();
    expect(await old.revokeToken(user.id, t2.id, 'ada', now)).toMatchObject({ revokedAt: now });
    expect(await store.useToken(user.id, t2.hash, now, '10.0.0.1')).toBeNull();
    expect(await store.getToken(user.id, t2.id)).toMatchObject({ revokedAt: now, revokedBy: 'ada' });

    // Checked by the new gateway (migrated to a hash): the old one no longer finds it (fails closed)...
    const t3 = token();
    await old.insertToken(t3, now);
    await store.useToken(user.id, t3.hash, now, '10.0.0.1');
    expect(await old.useToken(user.id, t3.hash, now, '10.0.0.1')).toBeNull();
    // ...and cannot revoke it by id (an error, so never acknowledged) or find it by secret. This
    // is why docs/upgrading.md asks to replace every gateway at once for this upgrade.
    await expect(old.revokeToken(user.id, t3.id, 'ada', now)).rejects.toThrow(/WRONGTYPE/);
    expect(await old.revokeTokenByHash(user.id, t3.hash, 'ada', now)).toBe(false);
    expect(await store.useToken(user.id, t3.hash, now, '10.0.0.1')).not.toBeNull();

    // A new token is unknown to the old gateway in the same way.
    const t4 = token();
    await store.insertToken(t4, LIMIT, now);
    expect(await old.useToken(user.id, t4.hash, now, '10.0.0.1')).toBeNull();
  });

  it('a secret that shares the lookup’s first characters but not the whole hash finds nothing', async () => {
    const t = token();
    await store.insertToken(t, LIMIT, now);
    const lookalike = t.hash.slice(0, HASH_FIELD_CHARS) + hex64().slice(HASH_FIELD_CHARS);
    expect(await store.useToken(user.id, lookalike, now, '10.0.0.1')).toBeNull();
    expect(await store.findTokenIdByHash(user.id, lookalike)).toBeNull();
    expect(await store.revokeTokenByHash(user.id, lookalike, 'ada', now)).toBe(false);
    expect(await store.useToken(user.id, t.hash, now, '10.0.0.1')).not.toBeNull();
  });

  it('the lookup expires with the user’s longest-lived token and forgets revoked and expired ones', async () => {
    const short = token({ expiresAt: now + HOUR });
    const long = token({ expiresAt: now + DAY });
    for (const t of [long, short]) await store.insertToken(t, LIMIT, now);
    expect(await admin.pexpiretime(`${tag}hashes`)).toBe(now + DAY);
    await store.revokeToken(user.id, long.id, 'ada', now);
    expect(await admin.hkeys(`${tag}hashes`)).toEqual([short.hash.slice(0, HASH_FIELD_CHARS)]);
    await store.insertToken(token(), LIMIT, now + 2 * HOUR);
    expect(await admin.hexists(`${tag}hashes`, short.hash.slice(0, HASH_FIELD_CHARS))).toBe(0);
  });
});
