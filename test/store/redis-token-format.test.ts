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
import { hash64, lookupField } from '../../src/store/redis/token-fields.js';
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
    expect(Object.keys(await admin.hgetall(`${tag}t:${bare.id}`)).sort()).toEqual(['H', 'b', 'c', 'e']);
    const revoked = await store.revokeToken(user.id, full.id, 'ada', now);
    expect(revoked).toEqual({ ...full, revokedAt: now, revokedBy: 'ada' });
    expect(await store.getToken(user.id, full.id)).toEqual(revoked);
  });

  it('a check within the precision from the recorded IP writes nothing; otherwise only the last-use fields', async () => {
    const t = token();
    await store.insertToken(t, LIMIT, now);
    await store.useToken(user.id, t.hash, now, '10.0.0.1');
    const stored = await admin.hgetall(`${tag}t:${t.id}`);
    // Last use as ms after createdAt (here: the same instant), the hash in base64url.
    expect(stored).toMatchObject({ U: '0', I: String(0x0a000001), H: hash64(t.hash) });
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
      `hset ${tag}t:${t.id} U ${MINUTE - 1} I ${0x0a000002}`,
      `hset ${tag}t:${t.id} U ${2 * MINUTE} I ${0x0a000002}`,
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
    expect(await admin.hget(`${tag}hashes`, lookupField(a.hash))).toBe(a.id);
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

  /**
   * A record as the previous compact version (0c26052) wrote it: one-letter fields with the hash
   * in hex (`h`) and last use absolute (`u`), found through a `hashes` field of the hash's first
   * 16 hex characters. Written with the commands its INSERT_TOKEN ran.
   */
  const previousCompact = async (t: TokenRecord): Promise<void> => {
    const letters: Record<string, string> = {
      name: 'n', description: 'd', scope: 's', expiration: 'x', createdAt: 'c', expiresAt: 'e', slidingWindow: 'w', maxLifetimeAt: 'm',
      createdBy: 'b', parentId: 'p', lastUsedAt: 'u', lastUsedIp: 'i', revokedAt: 'r', revokedBy: 'v', hash: 'h', rotatedFrom: 'o',
    };
    const fields: string[] = [];
    for (const [property, field] of Object.entries(letters)) {
      const value = t[property as keyof TokenRecord];
      if (value === undefined || value === '' || (property === 'expiration' && value === 'hard')) continue;
      fields.push(field, String(value));
    }
    const key = `${tag}t:${t.id}`;
    const horizon = (t.revokedAt ?? t.expiresAt) + AUDIT_RETENTION_MS;
    const write = admin.multi().hset(key, ...fields).pexpireat(key, horizon);
    if (t.revokedAt === undefined && t.expiresAt > now) {
      write.hset(`${tag}hashes`, t.hash.slice(0, 16), t.id).pexpireat(`${tag}hashes`, t.expiresAt).zadd(`${tag}tokens`, t.createdAt, t.id).zadd(`${tag}expiry`, t.expiresAt, t.id);
    } else {
      write.zadd(`${tag}retained`, horizon, t.id);
    }
    await write.exec();
  };

  it('reads, checks, lists and revokes records of the previous compact form, and migrates one on its first check', async () => {
    const a = token({ createdAt: now - 3, lastUsedAt: now - 5 * MINUTE, lastUsedIp: '10.0.0.9' });
    const b = token({ createdAt: now - 2 });
    const c = token({ createdAt: now - 1, expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + DAY, expiresAt: now + HOUR });
    const gone = token({ createdAt: now - 4, revokedAt: now - HOUR, revokedBy: 'ada' });
    for (const t of [a, b, c, gone]) await previousCompact(t);

    expect(await store.getToken(user.id, a.id)).toEqual(a);
    expect(await store.findTokenIdByHash(user.id, a.hash)).toBe(a.id);
    const page = await store.listTokenPage(user.id, { limit: 10, include: EVERYTHING }, now);
    expect(page.tokens).toEqual([a, b, c, gone]);
    expect(await store.useToken(user.id, gone.hash, now, '10.0.0.1')).toBeNull();
    expect(await store.findTokenIdByHash(user.id, gone.hash)).toBeNull();
    // Reading and listing rewrite nothing.
    expect(await admin.hget(`${tag}t:${a.id}`, 'h')).toBe(a.hash);

    // The first check rewrites it whole in the current form, found through the current lookup only.
    const used = await store.useToken(user.id, a.hash, now, '10.0.0.1');
    expect(used?.token).toEqual({ ...a, lastUsedAt: now, lastUsedIp: '10.0.0.1' });
    const stored = await admin.hgetall(`${tag}t:${a.id}`);
    expect(stored).toMatchObject({ H: hash64(a.hash), U: '3', I: String(0x0a000001) });
    expect(stored).not.toHaveProperty('h');
    expect(stored).not.toHaveProperty('u');
    expect(await admin.hget(`${tag}hashes`, lookupField(a.hash))).toBe(a.id);
    expect(await admin.hexists(`${tag}hashes`, a.hash.slice(0, 16))).toBe(0);
    expect(await admin.pexpiretime(`${tag}t:${a.id}`)).toBe(a.expiresAt + AUDIT_RETENTION_MS);
    expect((await store.useToken(user.id, a.hash, now + 1, '10.0.0.1'))?.token).toEqual(used?.token);
    expect(await store.getToken(user.id, a.id)).toEqual(used?.token);
    // A sliding one moves its expiry as it migrates.
    const slid = await store.useToken(user.id, c.hash, now + 30 * MINUTE, '10.0.0.1');
    expect(slid?.token.expiresAt).toBe(now + 30 * MINUTE + HOUR);
    expect(await admin.zscore(`${tag}expiry`, c.id)).toBe(String(now + 30 * MINUTE + HOUR));

    // Revoking (by secret and by id) works on a record of either form, and ends the secret.
    expect(await store.revokeTokenByHash(user.id, b.hash, 'ada', now)).toBe(true);
    expect(await admin.hexists(`${tag}hashes`, b.hash.slice(0, 16))).toBe(0);
    expect(await store.useToken(user.id, b.hash, now, '10.0.0.1')).toBeNull();
    expect(await store.getToken(user.id, b.id)).toEqual({ ...b, revokedAt: now, revokedBy: 'ada' });
    expect(await store.revokeToken(user.id, a.id, 'ada', now)).toMatchObject({ id: a.id, revokedAt: now });
    expect(await store.useToken(user.id, a.hash, now, '10.0.0.1')).toBeNull();
    expect((await store.listTokenPage(user.id, { limit: 10, include: ACTIVE_ONLY }, now)).tokens.map((t) => t.id)).toEqual([c.id]);
  });

  it('a previous-form record whose owner is disabled is refused and not migrated', async () => {
    const t = token();
    await previousCompact(t);
    await store.putUser({ ...user, enabled: false });
    expect(await store.useToken(user.id, t.hash, now, '10.0.0.1')).toBeNull();
    expect(await admin.hget(`${tag}t:${t.id}`, 'h')).toBe(t.hash);
    expect(await admin.hexists(`${tag}t:${t.id}`, 'H')).toBe(0);
    await store.putUser({ ...user, enabled: true });
    expect((await store.useToken(user.id, t.hash, now, '10.0.0.1'))?.token.id).toBe(t.id);
  });

  it('keeps a last-use IPv4 address as an integer and every other address as text, each read back as given', async () => {
    const t = token();
    await store.insertToken(t, LIMIT, now);
    const key = `${tag}t:${t.id}`;
    const spellings: [string, 'I' | 'i', string][] = [
      ['203.0.113.45', 'I', String(((203 << 24) >>> 0) + (113 << 8) + 45)],
      ['2001:db8::1', 'i', '2001:db8::1'],
      ['255.255.255.255', 'I', '4294967295'],
      ['0.0.0.0', 'I', '0'],
      ['010.0.0.1', 'i', '010.0.0.1'],
      ['1.2.3.256', 'i', '1.2.3.256'],
      ['12345', 'i', '12345'],
      ['::ffff:192.0.2.1', 'i', '::ffff:192.0.2.1'],
    ];
    let at = now;
    for (const [ip, field, value] of spellings) {
      at += 1;
      const use = await store.useToken(user.id, t.hash, at, ip);
      expect(use?.token).toMatchObject({ lastUsedAt: at, lastUsedIp: ip });
      expect(await store.getToken(user.id, t.id)).toEqual(use?.token);
      const stored = await admin.hgetall(key);
      // One spelling at a time: the other field went.
      expect([stored.I, stored.i]).toEqual(field === 'I' ? [value, undefined] : [undefined, value]);
      // The same address again within the precision: no write, same answer.
      expect((await store.useToken(user.id, t.hash, at + 1, ip))?.token).toEqual(use?.token);
    }
    // Written whole (insert, migration) the same way.
    const imported = token({ lastUsedAt: now, lastUsedIp: '192.0.2.1' });
    await store.insertToken(imported, LIMIT, now);
    expect(await admin.hget(`${tag}t:${imported.id}`, 'I')).toBe(String(((192 << 24) >>> 0) + 513));
    expect(await store.getToken(user.id, imported.id)).toEqual(imported);
  });

  it('refuses to store a hash that is not a hex SHA-256, and finds nothing for one', async () => {
    await expect(store.insertToken(token({ hash: 'not-a-hash' }), LIMIT, now)).rejects.toThrow(RangeError);
    await expect(store.insertToken(token({ hash: hex64().toUpperCase() }), LIMIT, now)).rejects.toThrow(RangeError);
    expect(await admin.zcard(`${tag}tokens`)).toBe(0);
    expect(await store.useToken(user.id, 'not-a-hash', now, '10.0.0.1')).toBeNull();
    expect(await store.findTokenIdByHash(user.id, 'not-a-hash')).toBeNull();
    expect(await store.revokeTokenByHash(user.id, 'not-a-hash', 'ada', now)).toBe(false);
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
    // 17 hex characters = 68 bits, more than the lookup's 11 base64url characters (66 bits).
    const lookalike = t.hash.slice(0, 17) + hex64().slice(17);
    expect(lookupField(lookalike)).toBe(lookupField(t.hash));
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
    expect(await admin.hkeys(`${tag}hashes`)).toEqual([lookupField(short.hash)]);
    await store.insertToken(token(), LIMIT, now + 2 * HOUR);
    expect(await admin.hexists(`${tag}hashes`, lookupField(short.hash))).toBe(0);
  });
});
