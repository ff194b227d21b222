/**
 * Signing and cookie keys at rest: read straight from Redis, they are ciphertext that opens only
 * with the KEK; keys stored in clear by a gateway without a KEK are encrypted at the next start
 * with one; a KEK rotation re-wraps them; a gateway without the right KEK refuses to start.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { KeyEncryption, KeyEncryptionError } from '../../src/oauth/key-encryption.js';
import { startGateway } from '../../src/server.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { REDIS_URL, deleteKeys, startTestGateway } from '../helpers/gateway.js';
import { messagesInto } from '../helpers/log-capture.js';

const newKek = () => randomBytes(32).toString('base64');
const kek = (current: string, previous?: string) => KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY: current, TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS: previous })!;
const kids = async (url: string): Promise<string[]> => ((await (await fetch(`${url}/oauth2/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('keys at rest', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const freshPrefix = () => {
    const prefix = `tessera-test:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  const raw = (prefix: string, setting: string) => redis.get(`${prefix}set:${setting}`);

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(REDIS_URL, prefix);
    redis.disconnect();
  });

  /** startGateway on a prefix with a given KEK; resolves to its error when it refuses. */
  async function tryStart(prefix: string, keyEncryption: KeyEncryption | null, lines: string[] = []): Promise<Error | null> {
    const config = parseConfig({ server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' }, passwords: { scryptCost: 1024, minLength: 8 } });
    const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 1000 });
    try {
      const gateway = await startGateway(config, { store, adminPassword: 'admin-password', logger: messagesInto(lines), keyEncryption });
      await gateway.close();
      return null;
    } catch (error) {
      return error as Error;
    }
  }

  it('are not readable from Redis without the KEK, and the gateway works with it', async () => {
    const secret = newKek();
    const gw = await startTestGateway({ keyEncryption: kek(secret) });
    try {
      for (const setting of ['oidc:signing-keys', 'oidc:cookie-keys']) {
        const value = (await raw(gw.prefix, setting))!;
        expect(value).not.toMatch(/"d"|"kty"|"secret"|"keys"/);
        expect(decodeProtectedHeader(value)).toMatchObject({ alg: 'dir', enc: 'A256GCM', kid: kek(secret).id });
        await expect(compactDecrypt(value, new Uint8Array(randomBytes(32)))).rejects.toThrow();
        const opened = JSON.parse(new TextDecoder().decode((await compactDecrypt(value, Buffer.from(secret, 'base64'))).plaintext));
        expect(opened.keys.length).toBe(1);
      }
      const signing = (await kids(gw.url))[0]!;
      const plain = JSON.parse(new TextDecoder().decode((await compactDecrypt((await raw(gw.prefix, 'oidc:signing-keys'))!, Buffer.from(secret, 'base64'))).plaintext));
      expect(plain.keys[0].jwk).toMatchObject({ kid: signing, kty: 'RSA', d: expect.any(String) });
      // A rotation writes ciphertext too.
      const admin = await gw.login('admin', 'admin-password-for-tests');
      expect((await gw.api('POST', '/api/v1/admin/keys/rotate', { token: admin })).status).toBe(200);
      expect(await raw(gw.prefix, 'oidc:signing-keys')).not.toContain('"d"');
      expect(await kids(gw.url)).toHaveLength(2);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('keys stored in clear are encrypted at the first start with a KEK; a KEK rotation re-wraps them', async () => {
    const prefix = freshPrefix();
    const first = newKek();
    const second = newKek();
    const clearStart: string[] = [];
    expect(await tryStart(prefix, null, clearStart)).toBeNull();
    expect(clearStart.join('\n')).toMatch(/WARNING: TESSERA_KEY_ENCRYPTION_KEY is not set: the OIDC signing keys and cookie keys are stored IN CLEAR/);
    const clear = (await raw(prefix, 'oidc:signing-keys'))!;
    expect(clear).toContain('"d"');
    const kid = JSON.parse(clear).keys[0].kid;

    const wrappingStart: string[] = [];
    expect(await tryStart(prefix, kek(first), wrappingStart)).toBeNull();
    expect(wrappingStart).toEqual(expect.arrayContaining([`Keys: encrypted oidc:signing-keys with KEK ${kek(first).id}.`, `Keys: encrypted oidc:cookie-keys with KEK ${kek(first).id}.`]));
    expect(wrappingStart.join('\n')).not.toContain('IN CLEAR');
    expect(wrappingStart.join('\n')).not.toContain(first);
    const wrapped = (await raw(prefix, 'oidc:signing-keys'))!;
    expect(wrapped).not.toContain('"d"');
    expect(decodeProtectedHeader(wrapped).kid).toBe(kek(first).id);
    expect(decodeProtectedHeader((await raw(prefix, 'oidc:cookie-keys'))!).kid).toBe(kek(first).id);

    // Without the KEK, or with a different one alone: refuses to start, naming what is missing.
    expect(await tryStart(prefix, null)).toMatchObject({ name: 'KeyEncryptionError', message: expect.stringContaining('TESSERA_KEY_ENCRYPTION_KEY is not set') });
    const wrong = await tryStart(prefix, kek(second));
    expect(wrong).toBeInstanceOf(KeyEncryptionError);
    expect(wrong!.message).toContain('TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS');
    expect(wrong!.message).not.toContain(first);
    expect(await raw(prefix, 'oidc:signing-keys')).toBe(wrapped);

    // Rotation of the KEK: new one current, old one previous, then the new one alone.
    expect(await tryStart(prefix, kek(second, first))).toBeNull();
    expect(decodeProtectedHeader((await raw(prefix, 'oidc:signing-keys'))!).kid).toBe(kek(second).id);
    expect(decodeProtectedHeader((await raw(prefix, 'oidc:cookie-keys'))!).kid).toBe(kek(second).id);
    expect(await tryStart(prefix, kek(second))).toBeNull();
    const opened = JSON.parse(new TextDecoder().decode((await compactDecrypt((await raw(prefix, 'oidc:signing-keys'))!, Buffer.from(second, 'base64'))).plaintext));
    expect(opened.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  }, 60_000);

  it('a malformed KEK is refused with the variable named', () => {
    expect(() => KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY: 'too-short' })).toThrow(/TESSERA_KEY_ENCRYPTION_KEY must be 32 random bytes/);
    expect(() => KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS: newKek() })).toThrow(/TESSERA_KEY_ENCRYPTION_KEY is not/);
    expect(KeyEncryption.fromEnv({})).toBeNull();
  });
});
