/**
 * The upstream provider's refresh tokens at rest, in the real Redis: sealed with the KEK (Redis
 * holds no trace of the token), read back; one stored in clear by an older Tessera still works
 * and is sealed on that read; one sealed with the previous KEK is re-sealed with the current one;
 * without a KEK they are stored in clear, as the signing keys are, and a sealed one is refused.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RefreshGrants } from '../../../src/identity/oidc/refresh-grants.js';
import { KeyEncryption, KeyEncryptionError } from '../../../src/oauth/key-encryption.js';
import { SealedSecrets } from '../../../src/oauth/sealed-secrets.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const newKek = () => randomBytes(32).toString('base64');
const kek = (current: string, previous?: string) => KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY: current, TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS: previous })!;

describe('upstream refresh tokens at rest', () => {
  let redis: Redis;
  const stores: { store: RedisStore; prefix: string }[] = [];
  const open = () => {
    const prefix = `tessera-test:${randomUUID()}:`;
    const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: 86_400_000, commandTimeoutMs: 5000 });
    stores.push({ store, prefix });
    return { store, prefix };
  };
  /** What Redis itself holds for the user's grant: its transient value, or (older) provider record. */
  const stored = async (prefix: string, username: string) =>
    ((await redis.get(`${prefix}tr:upstream-refresh-token:corp:${username}`)) ?? '') + ((await redis.hget(`${prefix}o:UpstreamRefreshToken:corp:${username}`, 'p')) ?? '');
  const token = () => `upstream-rt-${randomBytes(16).toString('hex')}`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const { store, prefix } of stores.splice(0)) {
      await store.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    }
  });
  afterAll(() => redis.quit());

  it('with a KEK the stored value is sealed: Redis holds no trace of the token, which reads back', async () => {
    const { store, prefix } = open();
    const grants = new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(kek(newKek())));
    const secret = token();
    await grants.keep('alice', secret);
    const raw = await stored(prefix, 'alice');
    expect(raw).toContain('tessera-sealed:');
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(secret.slice(12, 28));
    expect(await grants.find('alice')).toBe(secret);
  });

  it('a token stored in clear by an older Tessera still works and is sealed on that read', async () => {
    const { store, prefix } = open();
    const secret = token();
    await store.providerUpsert('UpstreamRefreshToken', 'corp:bob', { refreshToken: secret }, 3600);
    expect(await stored(prefix, 'bob')).toContain(secret);
    const grants = new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(kek(newKek())));
    expect(await grants.find('bob')).toBe(secret);
    expect(await stored(prefix, 'bob')).not.toContain(secret);
    expect(await grants.find('bob')).toBe(secret);
  });

  it('a token sealed with the previous KEK is re-sealed with the current one', async () => {
    const { store, prefix } = open();
    const [older, newer] = [newKek(), newKek()];
    const secret = token();
    await new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(kek(older))).keep('carol', secret);
    const before = await stored(prefix, 'carol');
    expect(await new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(kek(newer, older))).find('carol')).toBe(secret);
    expect(await stored(prefix, 'carol')).not.toBe(before);
    // Now readable with the new KEK alone.
    expect(await new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(kek(newer))).find('carol')).toBe(secret);
  });

  it('without a KEK tokens are stored in clear (as the signing keys are); a sealed one is refused, not guessed', async () => {
    const { store, prefix } = open();
    const secret = token();
    const clear = new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(null));
    await clear.keep('dave', secret);
    expect(await stored(prefix, 'dave')).toContain(secret);
    expect(await clear.find('dave')).toBe(secret);

    await new RefreshGrants(store, 'corp', Date.now, new SealedSecrets(kek(newKek()))).keep('erin', token());
    const before = await stored(prefix, 'erin');
    await expect(clear.find('erin')).rejects.toThrow(KeyEncryptionError);
    expect(await stored(prefix, 'erin')).toBe(before);
  });
});
