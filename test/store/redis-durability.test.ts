/**
 * The store checks against real, throwaway redis-servers: an evicting policy stops the gateway
 * at start-up (exit code 2 from the real entry point) and turns /readyz to 503 when set at run
 * time; missing persistence warns; a Redis that hides CONFIG is reported as unverified; a Redis
 * that refuses writes (maxmemory reached under noeviction) is not ready although it answers PING.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import { UnsafeStore } from '../../src/store/monitor.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { builtCli } from '../cli/helpers.js';
import { startRedisCluster, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { DAY } from './contract.js';
import { messagesInto } from '../helpers/log-capture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function server(args: string[] = []): Promise<RedisServer> {
  const s = await startRedisServer({ args });
  cleanups.push(() => s.stop());
  return s;
}

function side(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  cleanups.push(async () => client.disconnect());
  return client;
}

/** A gateway on `url` whose log lines are collected. Rejects like startGateway does. */
async function gatewayOn(url: string, store: Record<string, unknown> = {}): Promise<{ gateway: RunningGateway; logs: string[] }> {
  const logs: string[] = [];
  const config = parseConfig({
    server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' },
    passwords: { scryptCost: 1024, minLength: 8 },
    store: { redisUrl: url, keyPrefix: 'durable:', ...store },
  });
  const log = (line: string): void => void logs.push(line);
  const redis = RedisStore.connect({ url, keyPrefix: 'durable:', auditRetentionMs: DAY, commandTimeoutMs: 1000, replicaAcks: config.store.replicaAcks, log });
  const gateway = await startGateway(config, { store: redis, adminPassword: 'admin-password-for-tests', logger: messagesInto(logs) });
  cleanups.push(() => gateway.close());
  return { gateway, logs };
}

async function readyz(gateway: RunningGateway): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gateway.url}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** Polls until `test` holds (the periodic check runs every 200 ms here); generous deadline. */
async function eventually<T>(what: string, probe: () => Promise<T>, test: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (test(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('store checks at start-up', () => {
  it('the real entry point exits 2 on maxmemory-policy allkeys-lru, naming the setting and the fix', { timeout: 120_000 }, async () => {
    const redis = await server(['--maxmemory-policy', 'allkeys-lru']);
    const main = join(dirname(dirname(builtCli())), 'main.js');
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH!, HOME: tmpdir(), PORT: '0', REDIS_URL: redis.url, TESSERA_ADMIN_PASSWORD: 'admin-password-for-tests' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('refusing to start');
    expect(output).toContain('maxmemory-policy is allkeys-lru');
    expect(output).toContain('maxmemory-policy noeviction');
    expect(output).not.toContain('listening on');
  });

  it('`tessera serve` exits 2 the same way', { timeout: 120_000 }, async () => {
    const redis = await server(['--maxmemory-policy', 'allkeys-random']);
    const child = spawn(process.execPath, [builtCli(), 'serve'], {
      env: { PATH: process.env.PATH!, HOME: tmpdir(), PORT: '0', REDIS_URL: redis.url, TESSERA_ADMIN_PASSWORD: 'admin-password-for-tests' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('maxmemory-policy is allkeys-random');
  });

  it('refuses volatile-lru too (token and session records carry an expiry), and changes nothing', async () => {
    const redis = await server(['--maxmemory-policy', 'volatile-lru']);
    const error = await gatewayOn(redis.url).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeStore);
    expect((error as UnsafeStore).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/maxmemory-policy is volatile-lru.*volatile-\* policies evict keys with an expiry/);
    expect(await side(redis.url).keys('durable:*')).toEqual([]); // no admin created, no keys generated
  });

  it('starts on noeviction, warning when neither AOF nor RDB is on; quiet with AOF everysec', async () => {
    const bare = await gatewayOn((await server()).url);
    expect(bare.logs.some((l) => l.startsWith('WARNING: store check:') && l.includes('neither AOF nor RDB persistence is on'))).toBe(true);
    expect((await readyz(bare.gateway)).status).toBe(200);

    const dir = (await import('node:fs')).mkdtempSync(join(tmpdir(), 'tessera-aof-'));
    const durable = await gatewayOn((await server(['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir])).url);
    expect(durable.logs.filter((l) => l.includes('store check'))).toEqual([]);
  });

  it('where CONFIG is renamed away it starts and says what it could not verify and how to set it', async () => {
    const redis = await server(['--rename-command', 'CONFIG', '']);
    const { gateway, logs } = await gatewayOn(redis.url);
    const unverified = logs.filter((l) => l.includes('store check') && l.includes('could not'));
    expect(unverified.some((l) => l.includes('could not read maxmemory-policy') && l.includes('maxmemory-policy noeviction'))).toBe(true);
    expect(unverified.some((l) => l.includes('appendonly yes'))).toBe(true);
    expect((await readyz(gateway)).status).toBe(200);
  });
});

describe('store checks where an ACL refuses INFO too', () => {
  it('says replicas cannot be counted and how to set store.replicaAcks; with replicaAcks: 0 it starts', async () => {
    // As a managed Redis's ACL may have it: no CONFIG, no INFO.
    const redis = await server(['--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-info', '-config']);
    const error = await gatewayOn(redis.url).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ status: 503 }); // the bootstrap admin's write cannot know how many replicas to wait for
    const { gateway, logs } = await gatewayOn(redis.url, { replicaAcks: 0 });
    expect(logs.some((l) => l.includes('could not count the replicas') && l.includes('set store.replicaAcks'))).toBe(true);
    expect(logs.some((l) => l.includes('could not read the persistence settings'))).toBe(true);
    expect((await readyz(gateway)).status).toBe(200);
  });
});

describe('store checks on a running gateway', () => {
  it('detects maxmemory-policy changed at run time: /readyz 503 and a log line; 200 again once fixed', { timeout: 60_000 }, async () => {
    const redis = await server();
    const { gateway, logs } = await gatewayOn(redis.url, { checkInterval: 0.2 });
    expect(await readyz(gateway)).toEqual({ status: 200, body: { status: 'ok', store: 'redis' } });

    await side(redis.url).config('SET', 'maxmemory-policy', 'allkeys-lru');
    const failing = await eventually('readyz', () => readyz(gateway), (r) => r.status === 503);
    expect(failing.body).toEqual({ status: 'unavailable', store: 'redis', problems: ['maxmemory-policy'] });
    expect(logs.filter((l) => l.startsWith('ERROR: store check:') && l.includes('maxmemory-policy is allkeys-lru'))).toHaveLength(1);

    await side(redis.url).config('SET', 'maxmemory-policy', 'noeviction');
    await eventually('readyz', () => readyz(gateway), (r) => r.status === 200);
    expect(logs.some((l) => l.includes('store check: resolved') && l.includes('maxmemory-policy'))).toBe(true);
  });

  it('a Redis that refuses writes (maxmemory reached, noeviction) is not ready though it answers PING', async () => {
    const redis = await server();
    const { gateway } = await gatewayOn(redis.url);
    const admin = side(redis.url);
    await admin.config('SET', 'maxmemory', '1');
    expect(await admin.ping()).toBe('PONG');
    await expect(admin.set('x', '1')).rejects.toThrow(/OOM/);
    expect(await readyz(gateway)).toEqual({ status: 503, body: { status: 'unavailable', store: 'redis', problems: ['writes refused'] } });

    await admin.config('SET', 'maxmemory', '0');
    expect((await readyz(gateway)).status).toBe(200);
  });
});

describe('store checks on Redis Cluster', () => {
  it('checks every master: one evicting master is reported by its address', { timeout: 60_000 }, async () => {
    const cluster = await startRedisCluster(3);
    cleanups.push(() => cluster.stop());
    const [first, second] = cluster.nodes as [string, string];
    await side(`redis://${second}`).config('SET', 'maxmemory-policy', 'volatile-ttl');
    const store = RedisStore.connect({ clusterNodes: [first], keyPrefix: 'durable:', auditRetentionMs: DAY, commandTimeoutMs: 2000 });
    cleanups.push(() => store.close());
    await store.ping();
    const findings = await store.checkDurability();
    const fatal = findings.filter((f) => f.level === 'fatal');
    expect(fatal.map((f) => [f.setting, f.node])).toEqual([['maxmemory-policy', second]]);
    // Persistence is off on all three throwaway masters: one warning each.
    expect(new Set(findings.filter((f) => f.setting === 'appendonly').map((f) => f.node))).toEqual(new Set(cluster.nodes));
  });
});
