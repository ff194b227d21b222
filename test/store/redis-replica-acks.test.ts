/**
 * Replicated acknowledgement through the real gateway on real replicated Redis (Sentinel, and
 * Cluster with one replica per master):
 * - replica up: a revoke answers 200, and after `kill -9` of the primary and promotion of its
 *   replica the token is still revoked and a token whose creation was acknowledged still works;
 * - replica stopped (SIGSTOP: the link stays open, nothing is confirmed): the revoke answers 503
 *   temporarily_unavailable with a log line, and after a forced failover the token is revoked;
 * - the bearer check sends no WAIT (counted in the primary's INFO commandstats).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { onNode, startReplicatedCluster, startSentinelDeployment, waitForClusterOk, waitForSync } from '../helpers/redis-replicated.js';
import { sampleUser } from './contract.js';
import { messagesInto } from '../helpers/log-capture.js';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const RS = { id: 'rs', secret: 'rs-secret-0123456789abcdef' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

interface Deployed {
  gateway: RunningGateway;
  logs: string[];
  api(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }>;
  introspect(token: string): Promise<{ status: number; body: any }>;
  /** Introspection retried through a failover (503 while the store is switching). */
  introspectAfterFailover(token: string): Promise<any>;
  /** The admin's PAT creation, acknowledged with 201. */
  newToken(access: string, name: string): Promise<{ id: string; token: string }>;
}

async function deploy(store: Record<string, unknown>): Promise<Deployed> {
  const logs: string[] = [];
  const config = parseConfig({
    server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' },
    passwords: { scryptCost: 1024, minLength: 8 },
    clients: [{ ...RS, resourceServer: true }],
    // Generous: on a loaded test machine a healthy replica can take a while to be scheduled.
    store: { ...store, replicaAckTimeout: 3, commandTimeout: 2 },
  });
  const gateway = await startGateway(config, { adminPassword: ADMIN_PASSWORD, logger: messagesInto(logs) });
  cleanups.push(() => gateway.close());
  const api: Deployed['api'] = async (method, path, token, body) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(gateway.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const introspect: Deployed['introspect'] = async (token) => {
    const res = await fetch(`${gateway.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${RS.id}:${RS.secret}`).toString('base64')}` },
      body: new URLSearchParams({ token }).toString(),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    gateway,
    logs,
    api,
    introspect,
    async introspectAfterFailover(token) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const res = await introspect(token);
        if (res.status === 200) return res.body;
        expect(res.status).toBe(503);
        if (Date.now() > deadline) throw new Error('introspection never answered after the failover');
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async newToken(access, name) {
      const created = await api('POST', '/api/v1/tokens', access, { name, expires_in: '1d' });
      expect(created.status).toBe(201);
      return { id: created.body.id, token: created.body.token };
    },
  };
}

async function login(d: Deployed): Promise<string> {
  const res = await d.api('POST', '/api/v1/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
  expect(res.status).toBe(200);
  return res.body.access_token;
}

const waitCalls = async (port: number): Promise<number> =>
  Number(/cmdstat_wait:calls=(\d+)/.exec(await onNode(port, (r) => r.info('commandstats')))?.[1] ?? 0);

describe('replicated acknowledgement on Sentinel', () => {
  it('replica up: revoke 200 (bearer checks send no WAIT); revoked and granted tokens survive kill -9 of the primary and promotion', { timeout: 120_000 }, async () => {
    const redis = await startSentinelDeployment();
    cleanups.push(() => redis.stop());
    const d = await deploy({ sentinel: { nodes: [`127.0.0.1:${redis.sentinel.port}`], name: 'primary' } });
    const access = await login(d);
    const doomed = await d.newToken(access, 'doomed');
    const kept = await d.newToken(access, 'kept');

    const before = await waitCalls(redis.primary.port);
    for (let i = 0; i < 5; i++) {
      expect((await d.api('GET', `/api/v1/tokens/${kept.id}`, kept.token)).status).toBe(200);
      expect((await d.introspect(kept.token)).body.active).toBe(true);
    }
    expect(await waitCalls(redis.primary.port)).toBe(before);

    expect((await d.api('DELETE', `/api/v1/tokens/${doomed.id}`, access)).status).toBe(200);
    expect(await waitCalls(redis.primary.port)).toBeGreaterThan(before);
    expect((await d.introspect(doomed.token)).body).toEqual({ active: false });

    await redis.primary.stop(); // SIGKILL
    await redis.waitForPrimary(redis.replica.port);
    expect(await d.introspectAfterFailover(doomed.token)).toEqual({ active: false });
    expect(await d.introspectAfterFailover(kept.token)).toMatchObject({ active: true, username: 'admin' });
    // The store checks now look at the promoted primary (its persistence is off in this test).
    const findings = await (d.gateway.services.store as RedisStore).checkDurability();
    expect(findings.filter((f) => f.setting === 'appendonly').map((f) => f.node)).toEqual([`127.0.0.1:${redis.replica.port}`]);
  });

  it('replica stopped: revoke answers 503 temporarily_unavailable and logs it; after a forced failover the token is revoked', { timeout: 120_000 }, async () => {
    const redis = await startSentinelDeployment();
    cleanups.push(() => redis.stop());
    const d = await deploy({ sentinel: { nodes: [`127.0.0.1:${redis.sentinel.port}`], name: 'primary' } });
    const access = await login(d);
    const doomed = await d.newToken(access, 'doomed');

    redis.replica.process.kill('SIGSTOP');
    try {
      const revoke = await d.api('DELETE', `/api/v1/tokens/${doomed.id}`, access);
      expect(revoke.status).toBe(503);
      expect(revoke.body.error).toBe('temporarily_unavailable');
      expect(d.logs.some((l) => /revokeToken was applied on the primary but confirmed by 0 of 1 replicas/.test(l))).toBe(true);
      expect(d.logs.join('\n')).not.toContain(doomed.token);
      // Applied on the primary all the same: never "active" while it is there.
      expect((await d.introspect(doomed.token)).body).toEqual({ active: false });
      await redis.primary.stop();
    } finally {
      redis.replica.process.kill('SIGCONT');
    }
    await redis.waitForPrimary(redis.replica.port);
    expect(await d.introspectAfterFailover(doomed.token)).toEqual({ active: false });
  });
});

describe('replicated acknowledgement on Cluster (one replica per master)', () => {
  /** Index of the master holding the admin's keys (all of a user's keys share one slot). */
  async function adminsMaster(d: Deployed, ports: number[]): Promise<number> {
    const admin = await d.gateway.services.store.findUserByName('admin');
    const key = `tessera:{${admin!.id}}:user`;
    for (const [i, port] of ports.entries()) {
      if ((await onNode(port, (r) => r.exists(key)).catch(() => 0)) === 1) return i;
    }
    throw new Error('no master holds the admin');
  }

  async function takeover(cluster: Awaited<ReturnType<typeof startReplicatedCluster>>, i: number): Promise<void> {
    await cluster.masters[i]!.stop(); // SIGKILL
    // The replica may already have promoted itself (cluster-node-timeout): then there is nothing to take over.
    await onNode(cluster.replicas[i]!.port, (r) => r.cluster('FAILOVER', 'TAKEOVER')).catch(() => {});
    const alive = [...cluster.masters.filter((_, j) => j !== i), ...cluster.replicas].map((s) => s.port);
    await waitForClusterOk(alive, 60_000);
  }

  it('replica up: revoke 200; revoked and granted tokens survive kill -9 of the slot owner and CLUSTER FAILOVER TAKEOVER', { timeout: 180_000 }, async () => {
    const cluster = await startReplicatedCluster(3);
    cleanups.push(() => cluster.stop());
    const d = await deploy({ clusterNodes: cluster.nodes });
    const access = await login(d);
    const doomed = await d.newToken(access, 'doomed');
    const kept = await d.newToken(access, 'kept');
    const owner = await adminsMaster(d, cluster.masters.map((s) => s.port));

    const before = await waitCalls(cluster.masters[owner]!.port);
    expect((await d.api('DELETE', `/api/v1/tokens/${doomed.id}`, access)).status).toBe(200);
    // The WAIT went to the master owning the token's slot, not to some other node.
    expect(await waitCalls(cluster.masters[owner]!.port)).toBeGreaterThan(before);

    await takeover(cluster, owner);
    expect(await d.introspectAfterFailover(doomed.token)).toEqual({ active: false });
    expect(await d.introspectAfterFailover(kept.token)).toMatchObject({ active: true, username: 'admin' });
  });

  it('replica stopped: revoke answers 503; after kill -9 of the master and takeover the token is revoked', { timeout: 180_000 }, async () => {
    const cluster = await startReplicatedCluster(3);
    cleanups.push(() => cluster.stop());
    const d = await deploy({ clusterNodes: cluster.nodes });
    const access = await login(d);
    const doomed = await d.newToken(access, 'doomed');
    const owner = await adminsMaster(d, cluster.masters.map((s) => s.port));

    const replica = cluster.replicas[owner]!;
    replica.process.kill('SIGSTOP');
    try {
      const revoke = await d.api('DELETE', `/api/v1/tokens/${doomed.id}`, access);
      expect(revoke.status).toBe(503);
      expect(revoke.body.error).toBe('temporarily_unavailable');
      expect(d.logs.some((l) => /revokeToken was applied on the primary but confirmed by 0 of 1 replicas/.test(l))).toBe(true);
      expect((await d.introspect(doomed.token)).body).toEqual({ active: false });
      await cluster.masters[owner]!.stop();
    } finally {
      replica.process.kill('SIGCONT');
    }
    await onNode(replica.port, (r) => r.cluster('FAILOVER', 'TAKEOVER')).catch(() => {}); // unless it already promoted itself
    await waitForClusterOk([...cluster.masters.filter((_, j) => j !== owner), ...cluster.replicas].map((s) => s.port), 60_000);
    expect(await d.introspectAfterFailover(doomed.token)).toEqual({ active: false });
  });
});

describe('replicated acknowledgement in the store (primary + replica, no Sentinel)', () => {
  async function primaryWithReplica() {
    const primary = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    cleanups.push(() => primary.stop());
    const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port), '--dir', mkdtempSync(join(tmpdir(), 'tessera-replica-'))] });
    cleanups.push(() => replica.stop());
    await waitForSync(replica.port);
    return { primary, replica };
  }

  async function storeOn(url: string, options: { replicaAcks?: number } = {}) {
    const logs: string[] = [];
    const store = RedisStore.connect({ url, keyPrefix: 'acks:', auditRetentionMs: 86_400_000, commandTimeoutMs: 2000, replicaAckTimeoutMs: 1500, log: (l) => void logs.push(l), ...options });
    cleanups.push(() => store.close());
    return { store, logs };
  }


  it('while replicas do not confirm, one WAIT at a time probes; writes answer 503 meanwhile and succeed again once the replica is back', { timeout: 60_000 }, async () => {
    const { primary, replica } = await primaryWithReplica();
    const { store } = await storeOn(primary.url);
    const user = sampleUser(Date.now());
    await store.createUser(user);

    replica.process.kill('SIGSTOP');
    try {
      await expect(store.putUser({ ...user, enabled: false })).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable' });
      const before = await waitCalls(primary.port);
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.putUser({ ...user, displayName: `try ${i}` })));
      expect(results.every((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 503)).toBe(true);
      expect((await waitCalls(primary.port)) - before).toBeLessThanOrEqual(1);
      expect((await store.getUser(user.id))?.displayName).toMatch(/^try \d$/); // applied on the primary all the same
    } finally {
      replica.process.kill('SIGCONT');
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const outcome = await store.putUser({ ...user, enabled: false }).then(() => 'ok', (e: { status?: number }) => e.status);
      if (outcome === 'ok') break;
      expect(outcome).toBe(503);
      if (Date.now() > deadline) throw new Error('writes never confirmed again after the replica came back');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await store.getUser(user.id))?.enabled).toBe(false);
  });

  it('replicaAcks: 0 opts out (no WAIT); more than the replicas there answers 503 and the check says so', { timeout: 60_000 }, async () => {
    const { primary } = await primaryWithReplica();
    const off = await storeOn(primary.url, { replicaAcks: 0 });
    const before = await waitCalls(primary.port);
    await off.store.createUser(sampleUser(Date.now()));
    expect(await waitCalls(primary.port)).toBe(before);

    const two = await storeOn(primary.url, { replicaAcks: 2 });
    await expect(two.store.createUser(sampleUser(Date.now()))).rejects.toMatchObject({ status: 503 });
    expect(two.logs.some((l) => l.includes('confirmed by 1 of 2 replicas'))).toBe(true);
    const findings = await two.store.checkDurability();
    expect(findings.some((f) => f.setting === 'store.replicaAcks' && f.level === 'warning' && f.message.includes('need 2 replica(s)'))).toBe(true);
  });

  it('with replicas by default: every replica seen counts, also after it died', { timeout: 60_000 }, async () => {
    const { primary, replica } = await primaryWithReplica();
    const { store } = await storeOn(primary.url);
    const user = sampleUser(Date.now());
    await store.createUser(user);
    expect(await store.checkDurability()).not.toContainEqual(expect.objectContaining({ setting: 'store.replicaAcks' }));
    await replica.stop();
    await expect(store.revokeUserTokens(user.id, 'admin', Date.now())).rejects.toMatchObject({ status: 503 });
    expect(await store.checkDurability()).toContainEqual(expect.objectContaining({ setting: 'store.replicaAcks', level: 'warning' }));
  });
});
