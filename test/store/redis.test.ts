/**
 * RedisStore against the real Redis at 127.0.0.1:6379 (required: the suite fails, it does not
 * skip, when Redis is not there). Every store gets its own key prefix under one per-run prefix,
 * and its keys are deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type Command } from 'ioredis';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { Conflict } from '../../src/errors.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { lookupField } from '../../src/store/redis/token-fields.js';
import { usernameKey } from '../../src/store/usernames.js';
import type { TokenRecord, UserRecord } from '../../src/store/store.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { AUDIT_RETENTION_MS, allUsers, LAST_USED_PRECISION_MS, DAY, HOUR, MINUTE, base62, hex64, storeContract } from './contract.js';
import { snapshotContract } from './snapshot-contract.js';
import { outboxContract } from './outbox-contract.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const RUN_PREFIX = `tessera-test:${randomUUID()}:`;

let admin: Redis;
let stores = 0;

const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

async function deleteByPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

beforeAll(async () => {
  admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: 2000, retryStrategy: () => null });
  admin.on('error', () => {});
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    throw new Error(`these tests need a Redis server at ${REDIS_URL}, which is not reachable: ${(error as Error).message}`);
  }
});

afterAll(async () => {
  if (admin?.status === 'ready') {
    await deleteByPrefix(admin, RUN_PREFIX);
    await admin.quit();
  }
});

function newPrefix(): string {
  return `${RUN_PREFIX}${++stores}:`;
}

outboxContract('RedisStore', async () => {
  const prefix = newPrefix();
  const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, commandTimeoutMs: 2000 });
  return { store, cleanup: async () => { await store.close(); await deleteByPrefix(admin, prefix); } };
});

storeContract('RedisStore', async () => {
  const prefix = newPrefix();
  const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 2000 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteByPrefix(admin, prefix);
    },
  };
});

describe('RedisStore specifics', () => {
  let prefix: string;
  let client: Redis;
  let store: RedisStore;
  let now: number;
  /** Names of the commands the store's client sent. */
  let sent: string[];

  beforeEach(() => {
    prefix = newPrefix();
    client = new Redis(REDIS_URL, { commandTimeout: 2000, maxRetriesPerRequest: 1 });
    sent = [];
    const original = client.sendCommand.bind(client);
    client.sendCommand = ((command: Command, stream?: never) => {
      sent.push(command.name);
      return original(command, stream);
    }) as typeof client.sendCommand;
    store = new RedisStore({ redis: client, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 2000 });
    now = Date.now();
  });

  afterEach(async () => {
    await store.close();
    await deleteByPrefix(admin, prefix);
  });

  const newUser = (over: Partial<UserRecord> = {}): UserRecord => ({
    id: base62(12),
    username: `u-${base62(10)}`,
    displayName: 'Ada',
    email: 'ada@example.org',
    role: 'normal',
    enabled: true,
    source: 'local',
    groups: ['a'],
    createdAt: now,
    updatedAt: now,
    sessionsNotBefore: 0,
    ...over,
  });

  const newToken = (userId: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
    id: base62(16),
    userId,
    name: 't',
    description: '',
    scope: '',
    expiration: 'hard',
    createdAt: now,
    expiresAt: now + DAY,
    createdBy: 'ada',
    hash: hex64(),
    ...over,
  });

  const limit = { max: 10, onLimit: 'refuse' } as const;
  const pexpiretime = (key: string): Promise<number> => admin.call('PEXPIRETIME', key) as Promise<number>;

  it('useToken and useAccessToken are one command (one round trip) each, cold and warm', async () => {
    const user = newUser();
    await store.createUser(user);
    const token = newToken(user.id);
    await store.insertToken(token, limit, now);
    const session = { id: base62(16), userId: user.id, createdAt: now, expiresAt: now + DAY, refreshHash: hex64(), ip: '::1' };
    const access = hex64();
    await store.createSession(session, access, now + HOUR);

    for (let round = 0; round < 2; round++) {
      sent = [];
      expect(await store.useToken(user.id, token.hash, now, '::1')).not.toBeNull();
      expect(sent).toEqual(['evalsha']);
      sent = [];
      expect(await store.useAccessToken(user.id, access, now)).not.toBeNull();
      expect(sent).toEqual(['evalsha']);
      sent = [];
      expect(await store.useToken(user.id, hex64(), now, '::1')).toBeNull();
      expect(sent).toEqual(['evalsha']);
    }
  });

  it('keeps every per-user key under the user’s hash tag, with the documented names', async () => {
    const user = newUser();
    await store.createUser(user);
    const token = newToken(user.id);
    await store.insertToken(token, limit, now);
    const session = { id: base62(16), userId: user.id, createdAt: now, expiresAt: now + DAY, refreshHash: hex64(), ip: '::1' };
    const access = hex64();
    await store.createSession(session, access, now + HOUR);
    await store.hitCounter('login:ada', MINUTE, now);

    const tag = `${prefix}{${user.id}}:`;
    expect(await keysUnder(prefix)).toEqual(
      [
        `${prefix}users`,
        `${prefix}user-order`,
        `${prefix}c:login:ada`,
        `${tag}user`,
        `${tag}tokens`,
        `${tag}expiry`,
        `${tag}t:${token.id}`,
        `${tag}hashes`,
        `${tag}s:${session.id}`,
        `${tag}a:${access}`,
        `${tag}r:${session.refreshHash}`,
        `${tag}sessions`,
      ].sort(),
    );
    expect(await admin.hget(`${prefix}users`, usernameKey(user.username))).toBe(user.id);
    expect(await admin.zscore(`${tag}tokens`, token.id)).toBe(String(token.createdAt));
    // The compact record: a small hash (listpack) of one-letter fields; the secret's lookup by
    // the first HASH_FIELD_CHARS characters of its hash in base64url.
    expect(await admin.type(`${tag}t:${token.id}`)).toBe('hash');
    expect(await admin.object('ENCODING', `${tag}t:${token.id}`)).toBe('listpack');
    expect(await admin.hget(`${tag}hashes`, lookupField(token.hash))).toBe(token.id);
  });

  it('sets token expiries from the record: secret lookup at expiresAt, record at horizon + retention', async () => {
    const user = newUser();
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const token = newToken(user.id, { expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + DAY, expiresAt: now + HOUR });
    await store.insertToken(token, limit, now);
    expect(await pexpiretime(`${tag}hashes`)).toBe(token.expiresAt);
    expect(await pexpiretime(`${tag}t:${token.id}`)).toBe(token.expiresAt + AUDIT_RETENTION_MS);
    expect(await pexpiretime(`${tag}user`)).toBe(-1);

    now += 30 * MINUTE;
    const used = await store.useToken(user.id, token.hash, now, '::1');
    expect(used?.token.expiresAt).toBe(now + HOUR);
    expect(await pexpiretime(`${tag}hashes`)).toBe(now + HOUR);
    expect(await pexpiretime(`${tag}t:${token.id}`)).toBe(now + HOUR + AUDIT_RETENTION_MS);

    await store.updateToken(user.id, token.id, { name: 'renamed' });
    expect(await pexpiretime(`${tag}t:${token.id}`)).toBe(now + HOUR + AUDIT_RETENTION_MS);

    now += MINUTE;
    await store.revokeToken(user.id, token.id, 'ada', now);
    expect(await admin.hexists(`${tag}hashes`, lookupField(token.hash))).toBe(0);
    expect(await pexpiretime(`${tag}t:${token.id}`)).toBe(now + AUDIT_RETENTION_MS);
  });

  it('sets session, access, refresh and counter expiries', async () => {
    const user = newUser();
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const session = { id: base62(16), userId: user.id, createdAt: now, expiresAt: now + DAY, refreshHash: hex64(), ip: '::1' };
    const access = hex64();
    await store.createSession(session, access, now + HOUR);
    expect(await pexpiretime(`${tag}s:${session.id}`)).toBe(session.expiresAt);
    expect(await pexpiretime(`${tag}r:${session.refreshHash}`)).toBe(session.expiresAt);
    expect(await pexpiretime(`${tag}a:${access}`)).toBe(now + HOUR);

    const next = { refreshHash: hex64(), accessHash: hex64(), accessExpiresAt: now + 2 * HOUR };
    expect((await store.rotateRefreshToken(user.id, session.refreshHash, next, now)).outcome).toBe('ok');
    expect(await pexpiretime(`${tag}r:${next.refreshHash}`)).toBe(session.expiresAt);
    expect(await pexpiretime(`${tag}a:${next.accessHash}`)).toBe(next.accessExpiresAt);
    expect(await pexpiretime(`${tag}s:${session.id}`)).toBe(session.expiresAt); // KEEPTTL
    await store.revokeSession(user.id, session.id, now);
    expect(await pexpiretime(`${tag}s:${session.id}`)).toBe(session.expiresAt);

    await store.hitCounter('k', MINUTE, now);
    expect(await pexpiretime(`${prefix}c:k`)).toBe(now + MINUTE);
  });

  it('survives a Lua re-encode exactly: 13-digit times, unicode, slashes, quotes', async () => {
    const user = newUser({ groups: [] });
    await store.createUser(user);
    const far = 9_999_999_999_999; // the largest 13-digit ms time (year 2286)
    const token = newToken(user.id, {
      name: 'naïve ☃ 😀 \u0000 \t "q" / \\',
      expiration: 'sliding',
      slidingWindow: 1234567,
      maxLifetimeAt: far,
      expiresAt: far - 1,
      createdAt: now - 1,
    });
    await store.insertToken(token, limit, now);
    const used = await store.useToken(user.id, token.hash, now + 1, '::1');
    expect(used).toEqual({ token: { ...token, lastUsedAt: now + 1, lastUsedIp: '::1' }, user });
    expect(await store.getToken(user.id, token.id)).toEqual(used!.token);
    expect(await admin.get(`${prefix}{${user.id}}:user`)).toBe(JSON.stringify(user)); // never re-encoded: [] stays []
  });

  it('refuses times cjson could not keep exactly', async () => {
    const user = newUser();
    await store.createUser(user);
    await expect(store.insertToken(newToken(user.id, { expiresAt: 1e14 }), limit, now)).rejects.toBeInstanceOf(RangeError);
    await expect(store.insertToken(newToken(user.id, { createdAt: now + 0.5 }), limit, now)).rejects.toBeInstanceOf(RangeError);
    expect(await store.listTokens(user.id, now)).toEqual([]);
  });

  it('stores lone surrogates as U+FFFD, so a record never becomes undecodable for Lua', async () => {
    const user = newUser({ displayName: 'bad \ud800 name' });
    await store.createUser(user);
    const token = newToken(user.id, { name: 'x\udc00y' });
    const other = newToken(user.id);
    await store.insertToken(token, limit, now);
    await store.insertToken(other, limit, now);
    expect((await store.useToken(user.id, token.hash, now, '::1'))?.token.name).toBe('x\ufffdy');
    expect((await store.useToken(user.id, other.hash, now, '::1'))?.user.displayName).toBe('bad \ufffd name');
    expect(await store.updateToken(user.id, other.id, { name: '\ud83d' })).toMatchObject({ name: '\ufffd' });
    expect(await store.listTokens(user.id, now)).toHaveLength(2);
  });

  it('listTokens prunes set members whose record Redis already expired', async () => {
    const user = newUser();
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const gone = newToken(user.id, { createdAt: now - 1 });
    const kept = newToken(user.id);
    await store.insertToken(gone, limit, now);
    await store.insertToken(kept, limit, now);
    await admin.del(`${tag}t:${gone.id}`); // as if its PXAT had passed
    expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([kept.id]);
    expect(await admin.zrange(`${tag}tokens`, 0, -1)).toEqual([kept.id]);
  });

  it('deleteUser leaves nothing without an expiry behind', async () => {
    const user = newUser();
    await store.createUser(user);
    const tag = `${prefix}{${user.id}}:`;
    const token = newToken(user.id, { expiresAt: now + 2 * DAY });
    await store.insertToken(token, limit, now);
    await store.deleteUser(user.id, 'admin', now);
    expect(await admin.exists(`${tag}user`)).toBe(0);
    expect(await admin.hexists(`${prefix}users`, user.username)).toBe(0);
    expect(await pexpiretime(`${tag}t:${token.id}`)).toBe(now + AUDIT_RETENTION_MS);
    // Its revoked records all sit in the retained set, which lives as long as the longest-kept one.
    expect(await admin.exists(`${tag}tokens`)).toBe(0);
    expect(await pexpiretime(`${tag}retained`)).toBe(now + AUDIT_RETENTION_MS);
  });

  it('ignores a stale username index entry', async () => {
    const user = newUser();
    await admin.hset(`${prefix}users`, user.username, user.id); // index without record
    expect(await store.findUserByName(user.username)).toBeNull();
    expect(await allUsers(store)).toEqual([]);
  });

  it('upgrades an index written before names ignored case; old clashes keep their exact spelling', async () => {
    const alice = newUser({ username: 'Alice' });
    const shout = newUser({ username: 'ALICE' });
    const bob = newUser({ username: 'Bob' });
    // The index as an older Tessera wrote it: one field per exact spelling.
    for (const user of [alice, shout, bob]) {
      await admin.set(`${prefix}{${user.id}}:user`, JSON.stringify(user));
      await admin.hset(`${prefix}users`, user.username, user.id);
    }
    expect(await store.findUserByName('bob')).toEqual(bob);
    expect(await store.findUserByName('BOB')).toEqual(bob);
    await expect(store.createUser(newUser({ username: 'bob' }))).rejects.toBeInstanceOf(Conflict);
    // The clash: each old name is still found by its own spelling; other spellings find the one
    // that took the shared key. Neither is lost from the listing.
    expect(await store.findUserByName('Alice')).toEqual(alice);
    expect(await store.findUserByName('ALICE')).toEqual(shout);
    const holder = await store.findUserByName('alice');
    expect([alice.id, shout.id]).toContain(holder!.id);
    await expect(store.createUser(newUser({ username: 'alice' }))).rejects.toBeInstanceOf(Conflict);
    expect((await allUsers(store)).map((u) => u.username).sort()).toEqual(['ALICE', 'Alice', 'Bob']);
    expect((await store.listUserPage({ limit: 10 })).users.map((u) => u.username).sort()).toEqual(['ALICE', 'Alice', 'Bob']);
    expect(Object.keys(await admin.hgetall(`${prefix}users`)).sort()).toEqual([holder!.id === alice.id ? 'ALICE' : 'Alice', 'alice', 'bob'].sort());
    // Deleting one of the pair leaves the other found by every spelling.
    await store.deleteUser(holder!.id, 'admin', now);
    const other = holder!.id === alice.id ? shout : alice;
    expect(await store.findUserByName(other.username)).toEqual(other);
    expect(await store.findUserByName(other.username.toLowerCase())).toEqual(other);
    expect((await allUsers(store)).map((u) => u.id).sort()).toEqual([bob.id, other.id].sort());
    expect((await store.listUserPage({ limit: 10 })).users.map((u) => u.id).sort()).toEqual([bob.id, other.id].sort());
  });

  it('builds the listing order for users indexed before it existed, once per process, a step at a time', async () => {
    const old = Array.from({ length: 30 }, (_, i) => newUser({ username: `Old-${String(i).padStart(2, '0')}` }));
    // As an older Tessera wrote them: records and exact-spelling index fields, no listing order.
    for (const user of old) {
      await admin.set(`${prefix}{${user.id}}:user`, JSON.stringify(user));
      await admin.hset(`${prefix}users`, user.username, user.id);
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listUserPage({ limit: 7, cursor });
      pages.push(page.users.map((u) => u.username));
      cursor = page.next;
    } while (cursor);
    expect(pages.flat()).toEqual(old.map((u) => u.username));
    expect(await admin.zcard(`${prefix}user-order`)).toBe(30);
    expect(sent).toContain('hscan');
    expect(sent).not.toContain('hgetall');
  });

  it('a page costs one ZRANGE, one HMGET and one GET per user on it, however many users exist', async () => {
    const users = Array.from({ length: 60 }, (_, i) => newUser({ username: `p-${String(i).padStart(2, '0')}` }));
    for (const user of users) await store.createUser(user);
    await store.listUserPage({ limit: 1 }); // the once-per-process index walk
    sent = [];
    const page = await store.listUserPage({ limit: 5 });
    expect(page.users.map((u) => u.username)).toEqual(['p-00', 'p-01', 'p-02', 'p-03', 'p-04']);
    expect(sent.map((c) => c.toLowerCase()).sort()).toEqual(['get', 'get', 'get', 'get', 'get', 'hmget', 'zrange']);
  });

  it('skips and removes a listing entry whose index field is gone or names another user', async () => {
    const user = newUser({ username: 'kept' });
    await store.createUser(user);
    const ghost = base62(12);
    await admin.zadd(`${prefix}user-order`, 0, `gone\u0000${ghost}`, 0, `kept\u0000${ghost}`);
    expect((await store.listUserPage({ limit: 10 })).users).toEqual([user]);
    expect(await admin.zrange(`${prefix}user-order`, 0, -1)).toEqual([`kept\u0000${user.id}`]);
  });

  it('a user whose listing entry was lost between the claim and the add is listed again by the next process', async () => {
    const user = newUser({ username: 'crashed' });
    await store.createUser(user);
    await admin.del(`${prefix}user-order`);
    const next = new RedisStore({ redis: new Redis(REDIS_URL, { commandTimeout: 2000, maxRetriesPerRequest: 1 }), keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, commandTimeoutMs: 2000 });
    try {
      expect((await next.listUserPage({ limit: 10 })).users).toEqual([user]);
    } finally {
      await next.close();
    }
  });

  it('treats user ids that cannot be a hash tag as unknown', async () => {
    expect(await store.getUser('a}b')).toBeNull();
    expect(await store.useToken('{x}', hex64(), now, '::1')).toBeNull();
    expect(await store.listTokens('a{', now)).toEqual([]);
    await expect(store.createUser(newUser({ id: 'a}b' }))).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects key prefixes with hash tags and clients with their own keyPrefix', () => {
    const bare = new Redis(REDIS_URL, { lazyConnect: true });
    expect(() => new RedisStore({ redis: bare, keyPrefix: 'a{b}:', auditRetentionMs: DAY })).toThrow(RangeError);
    bare.disconnect();
    const prefixed = new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: 'x:' });
    expect(() => new RedisStore({ redis: prefixed, keyPrefix: 'a:', auditRetentionMs: DAY })).toThrow(RangeError);
    prefixed.disconnect();
  });

  it('falls back to EVAL when the script cache was flushed', async () => {
    const server = await startRedisServer();
    const own = RedisStore.connect({ url: server.url, keyPrefix: 'p:', auditRetentionMs: DAY, commandTimeoutMs: 2000 });
    const side = new Redis(server.url);
    try {
      const user = newUser();
      await own.createUser(user);
      const token = newToken(user.id);
      await own.insertToken(token, limit, now);
      expect(await own.useToken(user.id, token.hash, now, '::1')).not.toBeNull();
      await side.script('FLUSH');
      expect(await side.script('EXISTS', '0000000000000000000000000000000000000000')).toEqual([0]);
      expect((await own.useToken(user.id, token.hash, now + 1, '::1'))?.token.lastUsedAt).toBe(now + 1);
    } finally {
      side.disconnect();
      await own.close();
      await server.stop();
    }
  });
});

snapshotContract('RedisStore', async () => {
  const prefix = newPrefix();
  const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 2000 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteByPrefix(admin, prefix);
    },
  };
});

describe('RedisStore claims, markers and transient values', () => {
  let prefix: string;
  let store: RedisStore;
  let now: number;

  beforeEach(() => {
    prefix = newPrefix();
    store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, commandTimeoutMs: 2000 });
    now = Date.now();
  });

  afterEach(async () => {
    await store.close();
    await deleteByPrefix(admin, prefix);
  });

  it('keeps each under one key of its own, with the documented names, expiring when it lapses', async () => {
    await store.claimOnce('workload:jti:abc', MINUTE, now);
    await store.setMarker('ldap-revalidator:disabled:corp:u1', DAY, now);
    await store.putTransient('sign-in-request', 'relay', { source: 'okta' }, 10 * MINUTE, now);
    expect(await keysUnder(prefix)).toEqual([`${prefix}claim:workload:jti:abc`, `${prefix}mark:ldap-revalidator:disabled:corp:u1`, `${prefix}tr:sign-in-request:relay`]);
    expect(Number(await admin.pexpiretime(`${prefix}claim:workload:jti:abc`))).toBe(now + MINUTE);
    expect(Number(await admin.pexpiretime(`${prefix}mark:ldap-revalidator:disabled:corp:u1`))).toBe(now + DAY);
    expect(Number(await admin.pexpiretime(`${prefix}tr:sign-in-request:relay`))).toBe(now + 10 * MINUTE);
  });

  // Before claims and markers had keys of their own they were windowed counters under the same
  // names; a live one must still count after an upgrade (a replay cache, a 400-day marker).
  it('a live counter of the same name, as written before the upgrade, still counts as claimed and as marked', async () => {
    await store.hitCounter('saml:assertion:okta:_a1', MINUTE, now);
    expect(await store.claimOnce('saml:assertion:okta:_a1', MINUTE, now)).toBe(false);
    expect(await store.claimOnce('saml:assertion:okta:_a1', MINUTE, now + MINUTE)).toBe(true);

    const marker = 'ldap-revalidator:disabled:corp:u2';
    await store.hitCounter(marker, 400 * DAY, now);
    expect(await store.hasMarker(marker, now + 399 * DAY)).toBe(true);
    expect(await store.hasMarker(marker, now + 400 * DAY)).toBe(false);
    await store.clearMarker(marker);
    expect(await store.hasMarker(marker, now)).toBe(false);
    expect(await store.getCounter(marker, now)).toEqual({ count: 0, ttlMs: 0 });
  });
});
