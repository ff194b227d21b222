/**
 * Throwaway replicated Redis deployments for durability tests: a primary with one replica
 * watched by a Sentinel, and a Cluster with one replica per master. Every process is a real
 * `redis-server` on a free loopback port; `stop()` kills them all.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}${stderr}`)) : resolve(stdout))),
  );
}

/** A short-lived client for one node (no retries: a dead node fails at once). */
export async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Waits until `port` is a replica whose link to its primary is up and synced. */
export async function waitForSync(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await onNode(port, (r) => r.info('replication')).catch(() => '')).includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error(`replica ${port} never synced`);
    await sleep(50);
  }
}

export interface Sentinel {
  port: number;
  stop(): Promise<void>;
}

/** A Sentinel monitoring `primaryPort` as `primary`, quorum 1, quick to fail over. */
export async function startSentinel(primaryPort: number): Promise<Sentinel> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor primary 127.0.0.1 ${primaryPort} 1`,
      'sentinel down-after-milliseconds primary 500',
      'sentinel failover-timeout primary 2000',
    ].join('\n') + '\n',
  );
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 200; i++) {
    if ((await onNode(port, (r) => r.ping()).catch(() => null)) === 'PONG') break;
    await sleep(50);
  }
  return {
    port,
    async stop() {
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SentinelDeployment {
  primary: RedisServer;
  replica: RedisServer;
  sentinel: Sentinel;
  /** Waits until the Sentinel names `port` as the primary. */
  waitForPrimary(port: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Primary + synced replica + Sentinel that already knows the replica. */
export async function startSentinelDeployment(): Promise<SentinelDeployment> {
  const primary = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
  // A replica writes the synced snapshot to its working directory: keep it out of the repo.
  const dir = mkdtempSync(join(tmpdir(), 'tessera-replica-'));
  const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port), '--dir', dir] });
  const sentinel = await startSentinel(primary.port);
  const stop = async (): Promise<void> => {
    await Promise.all([sentinel.stop(), replica.stop(), primary.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForSync(replica.port);
    for (let i = 0; ; i++) {
      const replicas = await onNode(sentinel.port, (r) => r.call('SENTINEL', 'REPLICAS', 'primary') as Promise<unknown[]>);
      if (replicas.length > 0) break;
      if (i > 300) throw new Error('the sentinel never found the replica');
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    primary,
    replica,
    sentinel,
    async waitForPrimary(port, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const addr = await onNode(sentinel.port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'primary') as Promise<string[]>);
        if (Number(addr[1]) === port) return;
        if (Date.now() > deadline) throw new Error(`the sentinel still names ${addr.join(':')} as the primary`);
        await sleep(100);
      }
    },
    stop,
  };
}

export interface ReplicatedCluster {
  /** Seed nodes (`127.0.0.1:<port>`) of the masters. */
  nodes: string[];
  masters: RedisServer[];
  /** `replicas[i]` replicates `masters[i]`. */
  replicas: RedisServer[];
  stop(): Promise<void>;
}

async function clusterOk(port: number): Promise<boolean> {
  return (await onNode(port, (r) => r.cluster('INFO') as Promise<string>).catch(() => '')).includes('cluster_state:ok');
}

/** Waits until every given node reports cluster_state:ok. */
export async function waitForClusterOk(ports: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    while (!(await clusterOk(port))) {
      if (Date.now() > deadline) throw new Error(`cluster node ${port} never reached cluster_state:ok`);
      await sleep(100);
    }
  }
}

/** A Cluster of `count` masters, each with one synced replica. */
export async function startReplicatedCluster(count = 3): Promise<ReplicatedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const masters: RedisServer[] = [];
  const replicas: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all([...masters, ...replicas].map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  const node = async (name: string): Promise<RedisServer> =>
    startRedisServer({
      args: ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-config-file', `nodes-${name}.conf`, '--cluster-node-timeout', '1000', '--dir', dir],
    });
  try {
    for (let i = 0; i < count; i++) masters.push(await node(`m${i}`));
    const nodes = masters.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(masters.map((s) => s.port));
    for (const [i, master] of masters.entries()) {
      const replica = await node(`r${i}`);
      replicas.push(replica);
      const masterId = await onNode(master.port, (r) => r.cluster('MYID') as Promise<string>);
      await run('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${replica.port}`, `127.0.0.1:${master.port}`, '--cluster-slave', '--cluster-master-id', masterId]);
    }
    for (const replica of replicas) await waitForSync(replica.port);
    await waitForClusterOk([...masters, ...replicas].map((s) => s.port));
    return { nodes, masters, replicas, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
