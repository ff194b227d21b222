/**
 * The revalidator's rules, against the memory store and a scripted directory. The real-directory
 * path is covered by test/identity/ldap.test.ts.
 */
import { readAuditPage } from '../../../src/audit/query.js';
import { AuditTrail } from '../../../src/audit/trail.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { TemporarilyUnavailable } from '../../../src/errors.js';
import { LdapRevalidator, type DirectoryLookup } from '../../../src/identity/ldap/revalidator.js';
import type { Identity } from '../../../src/identity/source.js';
import { UserService } from '../../../src/identity/users.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import type { Store } from '../../../src/store/store.js';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { captureLog } from '../../helpers/log-capture.js';

/** A directory the test edits: username → identity; `down` makes every call fail like a dead server. */
class ScriptedDirectory implements DirectoryLookup {
  readonly id = 'corp';
  entries = new Map<string, Identity>();
  down = false;
  lookups = 0;

  add(username: string, groups: string[] = [], role?: Identity['role']): Identity {
    const identity: Identity = { source: this.id, username, displayName: username, email: `${username}@example.org`, groups, role };
    this.entries.set(username, identity);
    return identity;
  }

  async lookup(username: string): Promise<Identity | null> {
    this.lookups++;
    if (this.down) throw new TemporarilyUnavailable();
    return this.entries.get(username) ?? null;
  }

  async check(): Promise<void> {
    if (this.down) throw new TemporarilyUnavailable();
  }
}

function setup(intervalMs = 0, store: Store = new MemoryStore({ auditRetentionMs: 86_400_000 })) {
  const users = new UserService(store, parseConfig({}), () => Date.now(), new AuditTrail({ store, clock: () => Date.now(), retentionMs: 86_400_000, sinks: [] }));
  const directory = new ScriptedDirectory();
  const log = captureLog();
  const revalidator = new LdapRevalidator(directory, users, store, () => Date.now(), intervalMs, log.logger);
  const signIn = async (username: string, groups: string[] = []) => users.upsertExternal(directory.add(username, groups));
  return { store, users, directory, revalidator, signIn, log };
}

describe('LdapRevalidator', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('disables users gone from the directory and re-enables them when they return', async () => {
    const { store, users, directory, revalidator, signIn } = setup();
    await signIn('alice');
    await signIn('bob');
    directory.entries.delete('bob');

    expect(await revalidator.runOnce()).toMatchObject({ checked: 2, disabled: ['bob'], enabled: [] });
    expect((await users.get('bob')).enabled).toBe(false);
    expect((await users.get('alice')).enabled).toBe(true);
    // Recorded as the directory's doing, by the system, not as an admin's user.disabled.
    const events = (await store.auditRead({ count: 100 })).map((e) => JSON.parse(e.event));
    expect(events.find((e) => e.target?.username === 'bob' && e.outcome === 'succeeded' && e.type.includes('disabled'))).toMatchObject({
      type: 'user.disabled_by_revalidation',
      actor: { credential: 'system' },
      source: 'corp',
    });
    // Queries by the name such events had before find it too.
    const byOldName = await readAuditPage(store, { filter: { type: 'ldap.user_disabled_by_revalidation' }, limit: 10 });
    expect(byOldName.events.map((e) => e.target?.username)).toEqual(['bob']);
    // Still gone: nothing more to do.
    expect(await revalidator.runOnce()).toMatchObject({ disabled: [], enabled: [] });

    directory.add('bob');
    expect(await revalidator.runOnce()).toMatchObject({ disabled: [], enabled: ['bob'] });
    expect((await users.get('bob')).enabled).toBe(true);
  });

  it('records a directory change of groups or role as user.changed, and a sign-in that changes nothing as nothing', async () => {
    const { store, signIn } = setup();
    await signIn('dora');
    await signIn('dora');
    await signIn('dora', ['ops']);
    const events = (await store.auditRead({ count: 100 })).map((e) => JSON.parse(e.event)).filter((e) => e.target?.username === 'dora');
    expect(events.map((e) => e.type)).toEqual(['user.changed', 'user.created']);
    expect(events[0]).toMatchObject({ outcome: 'succeeded', actor: { credential: 'system' }, source: 'corp', details: { fields: ['groups'] } });
  });

  it('leaves alone users of other sources and users an admin disabled', async () => {
    const { users, directory, revalidator, signIn } = setup();
    await users.create({ username: 'local-user', password: 'local-password' });
    await signIn('carol');
    await users.update('carol', { enabled: false });

    expect(await revalidator.runOnce()).toMatchObject({ checked: 1, disabled: [], enabled: [] });
    expect((await users.get('carol')).enabled).toBe(false);
    expect((await users.get('local-user')).enabled).toBe(true);
    expect(directory.lookups).toBe(1);
  });

  it('forgets its own disable once an admin re-enabled the user', async () => {
    const { users, directory, revalidator, signIn } = setup();
    await signIn('dave');
    directory.entries.delete('dave');
    await revalidator.runOnce();
    directory.add('dave');
    await users.update('dave', { enabled: true }); // the admin was faster
    await revalidator.runOnce();
    // A later disable by the admin is the admin's, and stays.
    await users.update('dave', { enabled: false });
    expect(await revalidator.runOnce()).toMatchObject({ enabled: [] });
    expect((await users.get('dave')).enabled).toBe(false);
  });

  // Markers were windowed counters under the same key before the store had markers; on Redis
  // (the only store that outlives an upgrade) one set then must still let the user back in.
  it('a disable marked before the upgrade (as a counter, on Redis) is still undone when the user returns', async () => {
    const prefix = `tessera-test:revalidator:${randomUUID()}:`;
    const store = RedisStore.connect({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix, auditRetentionMs: 86_400_000, commandTimeoutMs: 2000 });
    const admin = new Redis('redis://127.0.0.1:6379');
    try {
      const { users, revalidator, signIn } = setup(0, store);
      const erin = await signIn('erin');
      await users.update('erin', { enabled: false }, undefined, 'revalidation');
      const key = `ldap-revalidator:disabled:corp:${erin.id}`;
      await store.hitCounter(key, 400 * 86_400_000, Date.now());
      expect(await revalidator.runOnce()).toMatchObject({ enabled: ['erin'] });
      expect((await users.get('erin')).enabled).toBe(true);
      expect(await store.hasMarker(key, Date.now())).toBe(false);
      expect((await store.getCounter(key, Date.now())).count).toBe(0);
    } finally {
      await store.close();
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    }
  });

  it('refreshes groups and role from the directory', async () => {
    const { users, directory, revalidator, signIn } = setup();
    await signIn('erin', ['ops']);
    directory.add('erin', ['admins', 'ops'], 'admin');
    expect(await revalidator.runOnce()).toMatchObject({ refreshed: ['erin'] });
    expect(await users.get('erin')).toMatchObject({ role: 'admin', groups: ['admins', 'ops'] });
    expect(await revalidator.runOnce()).toMatchObject({ refreshed: [] });
  });

  it('skips the round, disabling nobody, while the directory is unreachable', async () => {
    const { users, directory, revalidator, signIn, log } = setup();
    await signIn('frank');
    directory.entries.delete('frank');
    directory.down = true;
    const round = await revalidator.runOnce();
    expect(round).toMatchObject({ checked: 0, disabled: [], skipped: expect.any(String) });
    expect((await users.get('frank')).enabled).toBe(true);
    expect(log.text()).toMatch(/trying again next round/);
  });

  it('runs on its own once started, and not after stop()', async () => {
    const { users, directory, revalidator, signIn } = setup(50);
    stop = () => revalidator.stop();
    await signIn('grace');
    directory.entries.delete('grace');
    revalidator.start();
    revalidator.start(); // idempotent
    const deadline = Date.now() + 20_000; // a budget for a loaded machine, not a speed claim
    while ((await users.get('grace')).enabled && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect((await users.get('grace')).enabled).toBe(false);

    revalidator.stop();
    await new Promise((r) => setTimeout(r, 20)); // a round in flight finishes
    const lookups = directory.lookups;
    await new Promise((r) => setTimeout(r, 200));
    expect(directory.lookups).toBe(lookups);
  });

  it('does not schedule anything with interval 0', async () => {
    const { directory, revalidator, signIn } = setup(0);
    await signIn('heidi');
    revalidator.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(directory.lookups).toBe(0);
  });
});
