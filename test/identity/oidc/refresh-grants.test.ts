/**
 * Where upstream refresh tokens are kept, on the memory store and on Redis (the store that
 * outlives an upgrade): their own transient values, and tokens kept the old way (among the
 * OpenID Provider's records) still found and moved on first read.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RefreshGrants } from '../../../src/identity/oidc/refresh-grants.js';
import { SealedSecrets } from '../../../src/oauth/sealed-secrets.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import type { Store } from '../../../src/store/store.js';

const DAY = 86_400_000;
const prefix = `tessera-test:refresh-grants:${randomUUID()}:`;
const redis = RedisStore.connect({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix, auditRetentionMs: DAY, commandTimeoutMs: 2000 });

afterAll(async () => {
  await redis.close();
  const admin = new Redis('redis://127.0.0.1:6379');
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  await admin.quit();
});

const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore({ auditRetentionMs: DAY })],
  ['redis', () => redis],
];

describe.each(stores)('upstream refresh grants (%s store)', (_name, makeStore) => {
  const store = makeStore();
  let now = Date.now();
  const clock = () => now;

  it('keeps one token per user and source, replaced by the next, gone when it lapses', async () => {
    const user = `ada-${randomUUID()}`;
    const corp = new RefreshGrants(store, 'corp', clock, new SealedSecrets(null));
    const other = new RefreshGrants(store, 'other', clock, new SealedSecrets(null));
    expect(await corp.find(user)).toBeUndefined();
    await corp.keep(user, 'rt-1');
    await corp.keep(user, 'rt-2');
    expect(await corp.find(user)).toBe('rt-2');
    expect(await other.find(user)).toBeUndefined();
    await corp.keep(user, undefined); // the provider issued none this time: nothing to ask with
    expect(await corp.find(user)).toBeUndefined();
    await corp.keep(user, 'rt-3');
    now += 400 * DAY;
    expect(await corp.find(user)).toBeUndefined();
  });

  it('finds a token kept the old way (an OpenID Provider record) and moves it to its own place', async () => {
    const user = `bea-${randomUUID()}`;
    await store.providerUpsert('UpstreamRefreshToken', `corp:${user}`, { refreshToken: 'rt-old' }, 400 * 86_400);
    const grants = new RefreshGrants(store, 'corp', clock, new SealedSecrets(null));
    expect(await grants.find(user)).toBe('rt-old');
    expect(await store.providerFind('UpstreamRefreshToken', `corp:${user}`)).toBeNull();
    expect(await store.peekTransient('upstream-refresh-token', `corp:${user}`, now)).toEqual({ refreshToken: 'rt-old' });
    expect(await grants.find(user)).toBe('rt-old');
  });

  it('a newer token wins over one kept the old way, and forgetting forgets both', async () => {
    const user = `cyd-${randomUUID()}`;
    await store.providerUpsert('UpstreamRefreshToken', `corp:${user}`, { refreshToken: 'rt-old' }, 400 * 86_400);
    const grants = new RefreshGrants(store, 'corp', clock, new SealedSecrets(null));
    await grants.keep(user, 'rt-new');
    expect(await grants.find(user)).toBe('rt-new');
    await grants.forget(user);
    expect(await grants.find(user)).toBeUndefined();
    expect(await store.providerFind('UpstreamRefreshToken', `corp:${user}`)).toBeNull();
  });
});
