/**
 * The snapshot contract (src/store/snapshot.ts): what one store exports, another loads, record
 * for record, and every store refuses to load into a non-empty store or from a damaged file.
 * Run by each implementation's test file next to the Store contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Conflict, InvalidRequest } from '../../src/errors.js';
import { exportSnapshot, importSnapshot, readSnapshot } from '../../src/store/snapshot.js';
import type { Store, TokenRecord } from '../../src/store/store.js';
import { DAY, HOUR, base62, hex64, sampleUser, type StoreFactory } from './contract.js';

const SETTINGS = ['oidc:signing-keys', 'oidc:cookie-keys', 'bootstrap:admin'];

function token(userId: string, now: number, over: Partial<TokenRecord> = {}): TokenRecord {
  return { id: base62(12), userId, name: 'ci', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'admin', hash: hex64(), ...over };
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

export function snapshotContract(name: string, makeStore: StoreFactory): void {
  describe(`Snapshot contract: ${name}`, () => {
    const made: { store: Store; cleanup: () => Promise<void> }[] = [];
    const fresh = async () => {
      const m = await makeStore();
      made.push(m);
      return m.store;
    };
    let now: number;
    beforeEach(() => {
      now = Date.now();
    });
    afterEach(async () => {
      for (const m of made.splice(0)) await m.cleanup();
    });

    it('export then import into an empty store reproduces users, tokens (revoked stay revoked) and settings', async () => {
      const source = await fresh();
      const alice = sampleUser(now, { role: 'admin', passwordHash: 'scrypt$1024$8$1$salt$hash' });
      const bob = sampleUser(now, { groups: ['ops'], enabled: false });
      for (const u of [alice, bob]) await source.createUser(u);
      const limit = { max: 100, onLimit: 'refuse' } as const;
      const active = token(alice.id, now);
      const revoked = token(alice.id, now + 1);
      const sliding = token(bob.id, now + 2, { expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + 30 * DAY, expiresAt: now + HOUR, parentId: active.id });
      for (const t of [active, revoked, sliding]) await source.insertToken(t, limit, now);
      await source.revokeToken(alice.id, revoked.id, 'alice', now + 5);
      expect(await source.useToken(alice.id, active.hash, now + 10, '203.0.113.9')).not.toBeNull();
      await source.setSetting('oidc:signing-keys', 'eyJ.encrypted.value.as.stored');
      await source.setSetting('bootstrap:admin', '2026-01-01T00:00:00.000Z');

      const lines = await collect(exportSnapshot(source, { settings: SETTINGS, now: now + 20 }));
      expect(lines.join('\n')).not.toContain('"secret"');
      const target = await fresh();
      const counts = await importSnapshot(target, await readSnapshot(lines), { now: now + 30 });
      expect(counts).toEqual({ settings: 2, users: 2, tokens: 3 });

      expect(await target.listUsers()).toEqual(await source.listUsers());
      for (const u of [alice, bob]) expect(await target.listTokens(u.id, now + 40)).toEqual(await source.listTokens(u.id, now + 40));
      expect(await target.getSetting('oidc:signing-keys')).toBe('eyJ.encrypted.value.as.stored');
      expect(await target.findUserByName(alice.username)).toEqual(alice);
      expect((await target.useToken(alice.id, active.hash, now + 50, '203.0.113.9'))?.token.id).toBe(active.id);
      expect(await target.useToken(alice.id, revoked.hash, now + 50, '203.0.113.9')).toBeNull();
      expect(await target.useToken(bob.id, sliding.hash, now + 50, '203.0.113.9')).toBeNull(); // owner disabled
    });

    it('refuses a non-empty store and changes nothing', async () => {
      const source = await fresh();
      await source.createUser(sampleUser(now));
      const snapshot = await readSnapshot(await collect(exportSnapshot(source, { settings: SETTINGS, now })));
      const target = await fresh();
      const present = sampleUser(now);
      await target.createUser(present);
      await expect(importSnapshot(target, snapshot, { now })).rejects.toBeInstanceOf(Conflict);
      expect(await target.listUsers()).toEqual([present]);

      const keysOnly = await fresh();
      await keysOnly.setSetting('oidc:signing-keys', 'x');
      const withKeys = await readSnapshot([...(await collect(exportSnapshot(source, { settings: SETTINGS, now }))).slice(0, 1), JSON.stringify({ type: 'setting', name: 'oidc:signing-keys', value: 'y' }), JSON.stringify({ type: 'end', settings: 1, users: 0, tokens: 0 })]);
      await expect(importSnapshot(keysOnly, withKeys, { now })).rejects.toThrow(/not empty/);
      expect(await keysOnly.getSetting('oidc:signing-keys')).toBe('x');
    });

    it('refuses a cut, altered or foreign file before writing anything', async () => {
      const source = await fresh();
      const user = sampleUser(now);
      await source.createUser(user);
      await source.insertToken(token(user.id, now), { max: 10, onLimit: 'refuse' }, now);
      const lines = await collect(exportSnapshot(source, { settings: SETTINGS, now }));
      await expect(readSnapshot(lines.slice(0, -1))).rejects.toThrow(/cut short/);
      await expect(readSnapshot([...lines.slice(0, 2), ...lines.slice(3)])).rejects.toThrow(/end line counts/);
      await expect(readSnapshot(lines.slice(1))).rejects.toThrow(/not a Tessera snapshot/);
      await expect(readSnapshot([lines[0]!, '{"type":"user","record":{"id":"x"}}', lines.at(-1)!])).rejects.toBeInstanceOf(InvalidRequest);
      await expect(readSnapshot([lines[0]!, lines[2]!, JSON.stringify({ type: 'end', settings: 0, users: 0, tokens: 1 })])).rejects.toThrow(/belongs to no user/);
      await expect(readSnapshot([lines[0]!, 'not json'])).rejects.toThrow(/line 2: not JSON/);
    });
  });
}
