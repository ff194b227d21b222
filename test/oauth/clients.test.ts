import { describe, expect, it, vi } from 'vitest';
import { InvalidClient } from '../../src/errors.js';
import { hashPassword } from '../../src/identity/passwords.js';

/** Every scrypt verification the registry asks for, counted: the work itself, not its time. */
const verifications = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/identity/passwords.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/identity/passwords.js')>();
  return {
    ...original,
    verifyPassword: (password: string, encoded: string) => {
      verifications.count++;
      return original.verifyPassword(password, encoded);
    },
  };
});
import { ClientRegistry } from '../../src/oauth/clients.js';
import { parseConfig } from '../../src/config/load.js';

describe('client registry', () => {
  it('verifies a scrypt-hashed secret once, then answers from memory (no hashing per request)', async () => {
    const secret = 'hashed-client-secret-0123456789';
    const config = parseConfig({ clients: [{ id: 'rs', secretHash: await hashPassword(secret, 1 << 10), resourceServer: true }] });
    const registry = new ClientRegistry(config.clients);

    verifications.count = 0;
    await expect(registry.authenticate({ basic: { id: 'rs', secret } })).resolves.toMatchObject({ id: 'rs' });
    expect(verifications.count).toBe(1);

    for (let i = 0; i < 100; i++) await registry.authenticate({ post: { id: 'rs', secret } });
    // A hundred checks of the verified secret: not one more scrypt.
    expect(verifications.count).toBe(1);
    await expect(registry.authenticate({ basic: { id: 'rs', secret: 'wrong-secret-wrong-secret' } })).rejects.toBeInstanceOf(InvalidClient);
    await expect(registry.authenticate({ basic: { id: 'rs', secret } })).resolves.toMatchObject({ id: 'rs' });
    // Once a secret is verified, a wrong one is compared with it, not hashed.
    expect(verifications.count).toBe(1);
  });

  it('check() answers without a promise once no scrypt is needed (the hot path), with one only for a first verification', async () => {
    const secret = 'hashed-client-secret-0123456789';
    const config = parseConfig({ clients: [{ id: 'rs', secretHash: await hashPassword(secret, 1 << 10), resourceServer: true }, { id: 'plain', secret: 'plain-secret-0123456789abc' }] });
    const registry = new ClientRegistry(config.clients);
    expect(registry.check({ basic: { id: 'plain', secret: 'plain-secret-0123456789abc' } })).toMatchObject({ id: 'plain' });
    expect(() => registry.check({ basic: { id: 'plain', secret: 'plain-secret-0123456789abX' } })).toThrow(InvalidClient);
    const first = registry.check({ basic: { id: 'rs', secret } });
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toMatchObject({ id: 'rs' });
    expect(registry.check({ basic: { id: 'rs', secret } })).toMatchObject({ id: 'rs' });
    expect(() => registry.check({ basic: { id: 'rs', secret: 'wrong-secret-wrong-secret' } })).toThrow(InvalidClient);
  });

  it('refuses unknown clients, public clients, missing secrets and two methods at once', async () => {
    const config = parseConfig({ clients: [{ id: 'a', secret: 'a-secret-0123456789abc' }, { id: 'cli', public: true }] });
    const registry = new ClientRegistry(config.clients);
    await expect(registry.authenticate({ basic: { id: 'nobody', secret: 'a-secret-0123456789abc' } })).rejects.toBeInstanceOf(InvalidClient);
    await expect(registry.authenticate({ post: { id: 'cli', secret: 'anything-at-all-123' } })).rejects.toBeInstanceOf(InvalidClient);
    await expect(registry.authenticate({ post: { id: 'a' } })).rejects.toBeInstanceOf(InvalidClient);
    await expect(registry.authenticate({})).rejects.toBeInstanceOf(InvalidClient);
    await expect(registry.authenticate({ basic: { id: 'a', secret: 'a-secret-0123456789abc' }, post: { id: 'a', secret: 'a-secret-0123456789abc' } })).rejects.toThrow(/one client authentication method/);
    await expect(registry.authenticate({ basic: { id: 'a', secret: 'a-secret-0123456789abc' } })).resolves.toMatchObject({ id: 'a' });
  });

  it('config refuses a public client with a secret and a confidential one without', () => {
    expect(() => parseConfig({ clients: [{ id: 'x', public: true, secret: 's'.repeat(20) }] })).toThrow(/public client has no secret/);
    expect(() => parseConfig({ clients: [{ id: 'x' }] })).toThrow(/exactly one of secret, secretHash/);
    expect(() => parseConfig({ clients: [{ id: 'x', secret: 's'.repeat(20) }, { id: 'x', secret: 't'.repeat(20) }] })).toThrow(/unique/);
  });
});
