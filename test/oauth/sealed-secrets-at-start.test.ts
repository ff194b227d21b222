/**
 * Sealed secrets (upstream refresh tokens, SSF push headers) whose KEK the gateway lacks stop
 * its start, naming the setting to give and the KEK's fingerprint, instead of failing at the
 * first re-validation or push that reads one. Real Redis, real startGateway.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { RefreshGrants } from '../../src/identity/oidc/refresh-grants.js';
import { KeyEncryption, KeyEncryptionError } from '../../src/oauth/key-encryption.js';
import { SealedSecrets, SEALED_SECRETS_SETTING } from '../../src/oauth/sealed-secrets.js';
import { startGateway } from '../../src/server.js';
import { StreamRegistry } from '../../src/signals/streams.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { REDIS_URL, deleteKeys } from '../helpers/gateway.js';

const newKek = () => randomBytes(32).toString('base64');
const kek = (current: string, previous?: string) => KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY: current, TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS: previous })!;
const DAY = 86_400_000;

describe('sealed secrets: the KEKs they need are checked at start', () => {
  const prefixes: string[] = [];
  const stores: RedisStore[] = [];
  const open = (prefix: string) => {
    const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: DAY, commandTimeoutMs: 5000 });
    stores.push(store);
    return store;
  };
  const freshPrefix = () => {
    const prefix = `tessera-test:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const prefix of prefixes) await deleteKeys(REDIS_URL, prefix);
  });

  /** startGateway on a prefix with a given KEK and time; resolves to its error when it refuses. */
  async function tryStart(prefix: string, keyEncryption: KeyEncryption | null, now = Date.now()): Promise<Error | null> {
    const config = parseConfig({ server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' }, passwords: { scryptCost: 1024, minLength: 8 } });
    const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 5000 });
    try {
      const gateway = await startGateway(config, { store, clock: () => now, adminPassword: 'admin-password', keyEncryption });
      await gateway.close();
      return null;
    } catch (error) {
      return error as Error;
    }
  }

  it('an upstream refresh token sealed with a KEK since dropped stops the start, naming the setting and the KEK; never the secret', async () => {
    const prefix = freshPrefix();
    const [first, second] = [newKek(), newKek()];
    const now = Date.now();
    expect(await tryStart(prefix, kek(first), now)).toBeNull();
    const store = open(prefix);
    const secret = `upstream-rt-${randomBytes(16).toString('hex')}`;
    await new RefreshGrants(store, 'corp', () => now, new SealedSecrets(kek(first), { store, clock: () => now })).keep('alice', secret);

    // Rotation as documented: the new KEK with the old one as previous starts (and re-wraps the
    // signing keys); the new one alone would leave alice's token unreadable: refused at start.
    expect(await tryStart(prefix, kek(second, first), now)).toBeNull();
    const refused = await tryStart(prefix, kek(second), now);
    expect(refused).toBeInstanceOf(KeyEncryptionError);
    expect(refused!.message).toMatch(/^secrets in the store are sealed with KEK /);
    expect(refused!.message).toContain(kek(first).id);
    expect(refused!.message).toContain('upstream-refresh-token');
    expect(refused!.message).toContain('TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS');
    for (const leak of [first, second, secret]) expect(refused!.message).not.toContain(leak);

    // Once every token sealed with it has expired, the old KEK is no longer needed.
    expect(await tryStart(prefix, kek(second), now + 402 * DAY)).toBeNull();
  }, 60_000);

  it('without any KEK, sealed secrets stop the start naming TESSERA_KEY_ENCRYPTION_KEY', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    const sealed = new SealedSecrets(kek(newKek()), { store, clock: Date.now });
    await new RefreshGrants(store, 'corp', Date.now, sealed).keep('bob', 'upstream-rt-bob');
    // The signing keys were never written with a KEK here: only the sealed secrets need one.
    const refused = await tryStart(prefix, null);
    expect(refused).toBeInstanceOf(KeyEncryptionError);
    expect(refused!.message).toMatch(/^secrets in the store are sealed with KEK .*TESSERA_KEY_ENCRYPTION_KEY is not set/);
    expect(refused!.message).not.toContain('upstream-rt-bob');
  }, 60_000);

  it('SSF push headers are judged by the KEK each stored header names: sealed again with the new KEK, the old one is needed no more', async () => {
    const prefix = freshPrefix();
    const [first, second] = [newKek(), newKek()];
    const store = open(prefix);
    const stream = { stream_id: 's1', client_id: 'rp', delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://rp.example/ssf', authorization_header: 'Bearer receiver-secret' }, events: [], events_requested: [], status: 'enabled' };
    await store.setSetting('ssf.streams', JSON.stringify([stream]));
    const registry = (keys: KeyEncryption) => new StreamRegistry(store, new SealedSecrets(keys, { store, clock: Date.now }));
    // Read with a KEK: the header in clear is sealed with it, and nothing is recorded for it.
    await registry(kek(first)).all();
    expect(await store.getSetting(SEALED_SECRETS_SETTING)).toBeNull();
    expect(await registry(kek(first)).sealedWith()).toEqual([kek(first).id]);
    const refused = await tryStart(prefix, kek(second));
    expect(refused).toMatchObject({ name: 'KeyEncryptionError', message: expect.stringContaining('ssf-push-authorization') });
    expect(refused!.message).toContain(kek(first).id);
    expect(refused!.message).not.toContain('receiver-secret');
    // Read during the rotation: sealed again with the new KEK, the old one is needed no more.
    expect((await registry(kek(second, first)).all())[0]!.delivery.authorization_header).toBe('Bearer receiver-secret');
    expect(await tryStart(prefix, kek(second))).toBeNull();
    // Whichever gateway wrote last decides, because the check reads the headers themselves: one
    // still on the old KEK (holding the new one as previous) seals them with the old one again.
    await registry(kek(first, second)).all();
    expect(await tryStart(prefix, kek(second))).toMatchObject({ name: 'KeyEncryptionError', message: expect.stringContaining(kek(first).id) });
    // (The signing keys are wrapped with the new KEK by now: it stays as the previous one.)
    expect(await tryStart(prefix, kek(first, second))).toBeNull();
  }, 60_000);
});
