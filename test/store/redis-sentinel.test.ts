/**
 * RedisStore behind Redis Sentinel: the whole contract on a sentinel-discovered primary, and a
 * failover: while the primary is gone, calls fail closed (TemporarilyUnavailable); after the
 * sentinel promotes the replica, the store works again without a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporarilyUnavailable } from '../../src/errors.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startSentinel, waitForSync } from '../helpers/redis-replicated.js';
import { AUDIT_RETENTION_MS, LAST_USED_PRECISION_MS, DAY, base62, hex64, sampleUser, storeContract } from './contract.js';

describe('RedisStore through Redis Sentinel', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let sentinel: { port: number; stop(): Promise<void> };
  const stores: RedisStore[] = [];

  const connect = () => {
    const store = RedisStore.connect({
      sentinel: { nodes: [`127.0.0.1:${sentinel.port}`], name: 'primary' },
      keyPrefix: `tessera-test:${base62(8)}:`,
      auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS,
      commandTimeoutMs: 300,
      replicaAckTimeoutMs: 3000, // a loaded test machine may be slow to schedule the replica
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    primary = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    // A replica writes the synced snapshot to its working directory: keep it out of the repo.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-replica-'));
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port), '--dir', dir] });
    sentinel = await startSentinel(primary.port);
    // Writes wait for this replica (replicated acknowledgement): let its first sync finish.
    await waitForSync(replica.port);
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await sentinel?.stop();
    await replica?.stop();
    await primary?.stop();
  });

  storeContract('redis-sentinel', async () => ({ store: connect(), cleanup: async () => {} }));

  it('fails closed while the primary is down and recovers after the failover', { timeout: 30_000 }, async () => {
    const store = connect();
    const now = Date.now();
    const user = sampleUser(now);
    await store.createUser(user);
    const hash = hex64();
    await store.insertToken(
      { id: user.id + base62(10), userId: user.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'x', hash },
      { max: 5, onLimit: 'evict' },
      now,
    );
    // Before the primary dies, as in a real deployment: the sentinel knows the replica and the
    // replica has the data.
    const { Redis } = await import('ioredis');
    const admin = new Redis({ port: sentinel.port, host: '127.0.0.1' });
    for (let i = 0; i < 100; i++) {
      const replicas = (await admin.call('SENTINEL', 'REPLICAS', 'primary')) as string[][];
      if (replicas.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const direct = new Redis({ port: primary.port, host: '127.0.0.1' });
    expect(await direct.call('WAIT', '1', '5000')).toBe(1);
    direct.disconnect();
    expect(await store.useToken(user.id, hash, now, '127.0.0.1')).not.toBeNull();

    await primary.stop();
    await expect(store.useToken(user.id, hash, now, '127.0.0.1')).rejects.toBeInstanceOf(TemporarilyUnavailable);

    const deadline = Date.now() + 20_000;
    let use = null;
    while (Date.now() < deadline) {
      use = await store.useToken(user.id, hash, Date.now(), '127.0.0.1').catch((err) => {
        expect(err).toBeInstanceOf(TemporarilyUnavailable);
        return null;
      });
      if (use) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const promoted = (await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'primary')) as string[];
    admin.disconnect();
    expect(Number(promoted[1])).toBe(replica.port);
    expect(use?.user.id).toBe(user.id);
  });
});
