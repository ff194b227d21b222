/**
 * The contract suite once more on a throwaway 3-master Redis Cluster: proves that every script
 * touches only its user's slot (hash tags), that ioredis routes the scripts by their first key,
 * and that the cross-slot parts (username index and listing order, counters) work across nodes.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TemporarilyUnavailable } from '../../src/errors.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-server.js';
import { AUDIT_RETENTION_MS, allUsers, LAST_USED_PRECISION_MS, DAY, base62, hex64, sampleUser, storeContract } from './contract.js';
import { snapshotContract } from './snapshot-contract.js';
import { outboxContract } from './outbox-contract.js';

let cluster: RedisCluster;
let admin: Cluster;
let stores = 0;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  admin = new Cluster(cluster.nodes.map((n) => `redis://${n}`));
  admin.on('error', () => {});
  await admin.ping();
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

async function deleteByPrefix(prefix: string): Promise<void> {
  await Promise.all(
    admin.nodes('master').map(async (node) => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      // One key per command: a multi-key DEL would be cross-slot.
      await Promise.all(keys.map((key) => node.unlink(key)));
    }),
  );
}

storeContract('RedisStore on Redis Cluster', async () => {
  const prefix = `tessera-test:${++stores}:`;
  const store = RedisStore.connect({ clusterNodes: cluster.nodes, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 2000 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteByPrefix(prefix);
    },
  };
});

// Each queue's three keys share one hash tag: every outbox script runs in one slot.
outboxContract('RedisStore on Redis Cluster', async () => {
  const prefix = `tessera-test:${++stores}:`;
  const store = RedisStore.connect({ clusterNodes: cluster.nodes, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, commandTimeoutMs: 2000 });
  return { store, cleanup: async () => { await store.close(); await deleteByPrefix(prefix); } };
});

describe('RedisStore on Redis Cluster: spread', () => {
  it('puts different users on different nodes and still finds all of them', async () => {
    const store = RedisStore.connect({ clusterNodes: cluster.nodes, keyPrefix: 'spread:', auditRetentionMs: DAY, commandTimeoutMs: 2000 });
    try {
      const now = Date.now();
      const users = Array.from({ length: 12 }, (_, i) => sampleUser(now, { username: `user-${String(i).padStart(2, '0')}` }));
      for (const user of users) {
        await store.createUser(user);
        const hash = hex64();
        await store.insertToken(
          { id: base62(16), userId: user.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'x', hash },
          { max: 1, onLimit: 'evict' },
          now,
        );
        expect((await store.useToken(user.id, hash, now, '::1'))?.user.id).toBe(user.id);
      }
      expect((await allUsers(store)).map((u) => u.username)).toEqual(users.map((u) => u.username));
      const holders = await Promise.all(admin.nodes('master').map(async (node) => (await node.keys('spread:{*}:user')).length));
      expect(holders.filter((n) => n > 0).length).toBeGreaterThan(1);
      expect(holders.reduce((a, b) => a + b, 0)).toBe(12);
    } finally {
      await store.close();
      await deleteByPrefix('spread:');
    }
  });
});

describe('RedisStore on Redis Cluster: outages', () => {
  it('a dead master fails its own users fast and leaves the others working; a dead cluster fails everything at once', async () => {
    const broken = await startRedisCluster(3);
    const store = RedisStore.connect({ clusterNodes: broken.nodes, keyPrefix: 'o:', auditRetentionMs: DAY, commandTimeoutMs: 300 });
    try {
      const now = Date.now();
      const ids = Array.from({ length: 12 }, () => base62(12));
      for (const id of ids) {
        await store.createUser({ id, username: id, displayName: 'x', email: '', role: 'normal', enabled: true, source: 'local', groups: [], createdAt: now, updatedAt: now, sessionsNotBefore: 0 });
      }
      const [victim, ...others] = broken.nodes;
      // A plain (non-cluster) client on the victim: keys of other nodes answer MOVED.
      const victimNode = new Redis(`redis://${victim}`, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      victimNode.on('error', () => {});
      const onVictim = new Set<string>();
      for (const id of ids) if ((await victimNode.exists(`o:{${id}}:user`).catch(() => 0)) === 1) onVictim.add(id);
      expect(onVictim.size).toBeGreaterThan(0);
      expect(onVictim.size).toBeLessThan(ids.length);
      expect(others).toHaveLength(2);

      await victimNode.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      victimNode.disconnect();
      // Fast means bounded by the store's own rules, whatever the machine's load: a command for
      // the dead node fails on its command timeout (ioredis's, or the store's deadline naming
      // the configured 300 ms), never parked until the node returns. What bounded each failure
      // is asserted, not how long it took.
      const bounded = /Command timed out|no answer within 300 ms|ECONNREFUSED|Connection is closed/;
      const failures = await Promise.all(ids.map((id) => store.getUser(id).then((u) => u?.id, (e: unknown) => e)));
      ids.forEach((id, i) => {
        const outcome = failures[i];
        if (onVictim.has(id)) {
          expect(outcome).toBeInstanceOf(TemporarilyUnavailable);
          expect(String((outcome as TemporarilyUnavailable).cause)).toMatch(bounded);
        } else {
          expect(outcome).toBe(id);
        }
      });

      // The whole cluster gone: once the client has seen it down, the store refuses before
      // sending anything (no command queued, none timed out one by one).
      await broken.stop();
      await vi.waitFor(async () => expect(String(await store.useToken(ids[0]!, hex64(), Date.now(), '::1').catch((e: unknown) => e))).toMatch(/not connected/), { timeout: 30_000, interval: 50 });
      for (const id of ids) {
        const outcome = await store.useToken(id, hex64(), Date.now(), '::1').catch((e: unknown) => e);
        expect(outcome).toBeInstanceOf(TemporarilyUnavailable);
        expect((outcome as Error).message).toMatch(/useToken failed: not connected \(/);
      }
    } finally {
      await store.close();
      await broken.stop();
    }
  }, 60_000);
});

snapshotContract('RedisStore on Redis Cluster', async () => {
  const prefix = `tessera-test:${++stores}:`;
  const store = RedisStore.connect({ clusterNodes: cluster.nodes, keyPrefix: prefix, auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS, commandTimeoutMs: 2000 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteByPrefix(prefix);
    },
  };
});
