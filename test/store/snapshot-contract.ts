/**
 * The snapshot contract (src/store/snapshot.ts): what one store exports, another loads, record
 * for record, and every store refuses to load into a non-empty store or from a damaged file.
 * Run by each implementation's test file next to the Store contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Conflict, InvalidRequest } from '../../src/errors.js';
import { checkSnapshot, exportSnapshot, importSnapshot } from '../../src/store/snapshot.js';
import type { Store, TokenRecord } from '../../src/store/store.js';
import { DAY, HOUR, allUsers, base62, hex64, sampleUser, type StoreFactory } from './contract.js';

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
      const counts = await importSnapshot(target, () => lines, { now: now + 30 });
      expect(counts).toMatchObject({ settings: 2, users: 2, tokens: 3 });

      expect(await allUsers(target)).toEqual(await allUsers(source));
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
      const snapshot = await collect(exportSnapshot(source, { settings: SETTINGS, now }));
      const target = await fresh();
      const present = sampleUser(now);
      await target.createUser(present);
      await expect(importSnapshot(target, () => snapshot, { now })).rejects.toBeInstanceOf(Conflict);
      expect(await allUsers(target)).toEqual([present]);

      const keysOnly = await fresh();
      await keysOnly.setSetting('oidc:signing-keys', 'x');
      const withKeys = [...(await collect(exportSnapshot(source, { settings: SETTINGS, now }))).slice(0, 1), JSON.stringify({ type: 'setting', name: 'oidc:signing-keys', value: 'y' }), JSON.stringify({ type: 'end', settings: 1, users: 0, tokens: 0 })];
      await expect(importSnapshot(keysOnly, () => withKeys, { now })).rejects.toThrow(/not empty/);
      expect(await keysOnly.getSetting('oidc:signing-keys')).toBe('x');
    });

    it('streams: export reads a page of users at a time, and what it writes over several pages loads back', async () => {
      const source = await fresh();
      const users = Array.from({ length: 450 }, () => sampleUser(now));
      for (let i = 0; i < users.length; i += 50) await Promise.all(users.slice(i, i + 50).map((u) => source.createUser(u)));
      await source.insertToken(token(users[7]!.id, now), { max: 10, onLimit: 'refuse' }, now);
      let pages = 0;
      const counted = new Proxy(source, {
        get: (target, prop, receiver) => (prop === 'listUserPage' ? (...args: Parameters<Store['listUserPage']>) => (pages++, target.listUserPage(...args)) : Reflect.get(target, prop, receiver)),
      });
      const lines = exportSnapshot(counted, { settings: SETTINGS, now });
      await lines.next(); // header
      expect(JSON.parse((await lines.next()).value as string).type).toBe('user');
      expect(pages).toBe(1);
      const rest = await collect(lines);
      expect(pages).toBeGreaterThan(2);
      expect(JSON.parse(rest.at(-1)!)).toEqual({ type: 'end', settings: 0, users: 450, tokens: 1 });
      const target = await fresh();
      let opened = 0;
      const file = await collect(exportSnapshot(source, { settings: SETTINGS, now }));
      expect(await importSnapshot(target, () => (opened++, file), { now })).toMatchObject({ users: 450, tokens: 1 });
      expect(opened).toBe(2); // checked whole, then written
      expect((await target.listUserPage({ limit: 1000 })).users).toHaveLength(450);
      expect(await target.getToken(users[7]!.id, JSON.parse(file.find((l) => l.includes('"type":"token"'))!).record.id)).not.toBeNull();
    });

    it('loads a version 1 file as earlier Tessera versions wrote it', async () => {
      const hash = 'a'.repeat(64);
      const file = [
        '{"type":"tessera-snapshot","version":1,"createdAt":"2026-01-02T03:04:05.000Z"}',
        '{"type":"setting","name":"bootstrap:admin","value":"2026-01-01T00:00:00.000Z"}',
        `{"type":"user","record":{"id":"U1old","username":"olga","displayName":"Olga","email":"olga@example.org","role":"admin","enabled":true,"source":"local","groups":[],"createdAt":${now},"updatedAt":${now},"sessionsNotBefore":0}}`,
        `{"type":"token","record":{"id":"T1old","userId":"U1old","name":"ci","description":"","scope":"","expiration":"hard","createdAt":${now},"expiresAt":${now + DAY},"createdBy":"olga","hash":"${hash}"}}`,
        '{"type":"end","settings":1,"users":1,"tokens":1}',
      ];
      const target = await fresh();
      expect(await importSnapshot(target, () => file, { now })).toMatchObject({ settings: 1, users: 1, tokens: 1 });
      expect((await target.findUserByName('olga'))?.id).toBe('U1old');
      expect((await target.useToken('U1old', hash, now + 1, '203.0.113.9'))?.token.id).toBe('T1old');
    });

    it('a bad line anywhere, even the last token, leaves the target untouched', async () => {
      const source = await fresh();
      const user = sampleUser(now);
      await source.createUser(user);
      await source.insertToken(token(user.id, now), { max: 10, onLimit: 'refuse' }, now);
      const lines = await collect(exportSnapshot(source, { settings: SETTINGS, now }));
      const target = await fresh();
      const broken = [...lines.slice(0, -2), lines.at(-2)!.replace(/"hash":"[0-9a-f]+"/, '"hash":"nope"'), lines.at(-1)!];
      await expect(importSnapshot(target, () => broken, { now })).rejects.toBeInstanceOf(InvalidRequest);
      // A token before its user's line is refused too.
      await expect(importSnapshot(target, () => [lines[0]!, lines.at(-2)!, lines.at(-3)!, lines.at(-1)!], { now })).rejects.toThrow(/belongs to no user/);
      expect(await target.listUserPage({ limit: 10 })).toEqual({ users: [] });
    });

    it('refuses a cut, altered or foreign file before writing anything', async () => {
      const source = await fresh();
      const user = sampleUser(now);
      await source.createUser(user);
      await source.insertToken(token(user.id, now), { max: 10, onLimit: 'refuse' }, now);
      const lines = await collect(exportSnapshot(source, { settings: SETTINGS, now }));
      await expect(checkSnapshot(lines.slice(0, -1))).rejects.toThrow(/cut short/);
      await expect(checkSnapshot([...lines.slice(0, 2), ...lines.slice(3)])).rejects.toThrow(/end line counts/);
      await expect(checkSnapshot(lines.slice(1))).rejects.toThrow(/not a Tessera snapshot/);
      await expect(checkSnapshot([lines[0]!, '{"type":"user","record":{"id":"x"}}', lines.at(-1)!])).rejects.toBeInstanceOf(InvalidRequest);
      await expect(checkSnapshot([lines[0]!, lines[2]!, JSON.stringify({ type: 'end', settings: 0, users: 0, tokens: 1 })])).rejects.toThrow(/belongs to no user/);
      await expect(checkSnapshot([lines[0]!, 'not json'])).rejects.toThrow(/line 2: not JSON/);
    });
  });
}
