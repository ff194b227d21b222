/**
 * Starts a real gateway on a loopback port for a test file: real HTTP, the real app, and the
 * real Redis on 127.0.0.1:6379 under a key prefix of its own (deleted afterwards). Time comes
 * from a clock the test moves forward, so expiry is tested without sleeping.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import type { KeyEncryption } from '../../src/oauth/key-encryption.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { Store } from '../../src/store/store.js';
import type { Logger } from '../../src/observability/logger.js';

export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const CLIENT = { id: 'downstream-api', secret: 'downstream-secret-0123456789abcdef' };
export const NON_RS_CLIENT = { id: 'plain-client', secret: 'plain-client-secret-0123456789ab' };

export interface TestClock {
  now: number;
  advance(ms: number): void;
}

export interface TestGateway extends RunningGateway {
  clock: TestClock;
  prefix: string;
  /** fetch against the gateway, JSON in and out. */
  api(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  login(username: string, password: string): Promise<string>;
  /** Logs in and returns a full-rights PAT: survives tests that move the clock by days. */
  personalToken(username: string, password: string): Promise<string>;
  introspect(token: string, client?: { id: string; secret: string }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
  /** Every audit log line the gateway wrote, as the sink received it. */
  auditLines: Record<string, any>[];
}

export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

export async function startTestGateway(
  options: {
    config?: Record<string, any>;
    store?: 'redis' | 'memory';
    redisUrl?: string;
    /** Listen on a fixed free port and use http://127.0.0.1:<port> as the issuer, for real OAuth clients. */
    reachableIssuer?: boolean;
    /** Share another gateway's Redis keys (a second instance of the same deployment). */
    prefix?: string;
    /** Wraps the real store, e.g. to inject a failure into one operation. */
    wrapStore?: (store: Store) => Store;
    /** The KEK for keys at rest (default: none). */
    keyEncryption?: KeyEncryption | null;
    /** Where the gateway logs (default: nowhere); see test/helpers/log-capture.ts. */
    logger?: Logger;
  } = {},
): Promise<TestGateway> {
  const prefix = options.prefix ?? `tessera-test:${randomUUID()}:`;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const port = options.reachableIssuer ? await freePort() : 0;
  const raw = {
    server: { port, host: '127.0.0.1', issuer: options.reachableIssuer ? `http://127.0.0.1:${port}` : 'https://tessera.test' },
    passwords: { scryptCost: 1024, minLength: 8 },
    clients: [{ ...CLIENT, resourceServer: true }, NON_RS_CLIENT],
    ...options.config,
  };
  const config = parseConfig(raw);
  const clock: TestClock = { now: Date.now(), advance(ms) { this.now += ms; } };
  const realStore: Store =
    options.store === 'memory'
      ? new MemoryStore({ auditRetentionMs: config.tokens.auditRetention })
      : // A budget for a machine at load 20 (eight engineers' suites at once), where a command to a
        // healthy Redis has waited past 500 ms and failed a sign-in with 503. Outage tests stop
        // the server (refused at once) or use their own store with a short timeout.
        RedisStore.connect({ url: redisUrl, keyPrefix: prefix, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 5000 });
  const store = options.wrapStore ? options.wrapStore(realStore) : realStore;
  const auditLines: Record<string, any>[] = [];
  const auditSinks = [{ info: (obj: object) => void auditLines.push(obj as Record<string, any>) }];
  const gateway = await startGateway(config, { store, clock: () => clock.now, adminPassword: ADMIN_PASSWORD, logger: options.logger, auditSinks, keyEncryption: options.keyEncryption ?? null });

  const api: TestGateway['api'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const res = await fetch(gateway.url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  const login = async (username: string, password: string) => {
    const res = await api('POST', '/api/v1/login', { body: { username, password } });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.access_token as string;
  };

  return {
    ...gateway,
    clock,
    prefix,
    auditLines,
    api,
    login,
    async personalToken(username, password) {
      const access = await login(username, password);
      const res = await api('POST', '/api/v1/tokens', { token: access, body: { name: `${username} test token`, expires_in: '365d' } });
      if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token as string;
    },
    async introspect(token, client = CLIENT) {
      return api('POST', '/oauth2/introspect', {
        body: new URLSearchParams({ token }).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
        },
      });
    },
    async stop() {
      await gateway.close();
      if (options.store !== 'memory') await deleteKeys(redisUrl, prefix);
    },
  };
}
