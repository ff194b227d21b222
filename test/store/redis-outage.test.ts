/**
 * A dead, hung or slow Redis must turn into TemporarilyUnavailable quickly — never into a hang,
 * and never into an "active" answer. Each case breaks its own throwaway redis-server.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { TemporarilyUnavailable } from '../../src/errors.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { TokenRecord, UserRecord } from '../../src/store/store.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { DAY, base62, hex64, sampleUser } from './contract.js';

const COMMAND_TIMEOUT_MS = 300;
/** One failing call must answer within this bound: a dead store never stalls a request for long. */
const FAST_MS = 2000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function server(args: string[] = []): Promise<RedisServer> {
  const s = await startRedisServer({ args });
  cleanups.push(() => s.stop());
  return s;
}

function storeOn(url: string): RedisStore {
  const store = RedisStore.connect({ url, keyPrefix: 'outage:', auditRetentionMs: DAY, commandTimeoutMs: COMMAND_TIMEOUT_MS });
  cleanups.push(() => store.close());
  return store;
}

function sideClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  cleanups.push(async () => client.disconnect());
  return client;
}

const newUser = (): UserRecord => sampleUser(Date.now());

const newToken = (userId: string): TokenRecord => {
  const now = Date.now();
  return {
    id: base62(16),
    userId,
    name: 't',
    description: '',
    scope: '',
    expiration: 'sliding',
    slidingWindow: DAY,
    maxLifetimeAt: now + 30 * DAY,
    createdAt: now,
    expiresAt: now + DAY,
    createdBy: 'ada',
    hash: hex64(),
  };
};

/** A store with one user and one working token on a fresh server. */
async function working(args: string[] = []): Promise<{ server: RedisServer; store: RedisStore; user: UserRecord; token: TokenRecord }> {
  const s = await server(args);
  const store = storeOn(s.url);
  const user = newUser();
  await store.createUser(user);
  const token = newToken(user.id);
  await store.insertToken(token, { max: 5, onLimit: 'evict' }, Date.now());
  expect((await store.useToken(user.id, token.hash, Date.now(), '::1'))?.token.id).toBe(token.id);
  return { server: s, store, user, token };
}

/** Runs `call`, which must reject with TemporarilyUnavailable within `maxMs`. Returns the time taken. */
async function failsFast(what: string, call: () => Promise<unknown>, maxMs = FAST_MS): Promise<number> {
  const started = Date.now();
  const outcome = await call().then(
    (value) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  const elapsed = Date.now() - started;
  expect(outcome.resolved ? `${what} resolved to ${JSON.stringify(outcome.value)}` : 'rejected').toBe('rejected');
  if (!outcome.resolved) {
    expect(outcome.error, `${what}: ${String(outcome.error)}`).toBeInstanceOf(TemporarilyUnavailable);
    expect((outcome.error as TemporarilyUnavailable).status).toBe(503);
  }
  expect(elapsed, `${what} took ${elapsed} ms`).toBeLessThan(maxMs);
  return elapsed;
}

describe('RedisStore when Redis fails', () => {
  it('killed server: useToken, insertToken, createUser, ping and the rest reject fast, again and again', async () => {
    const { server: s, store, user, token } = await working();
    await s.stop();

    const timings: Record<string, number[]> = {};
    const note = (what: string, ms: number): void => void (timings[what] ??= []).push(ms);
    // Several rounds: ioredis keeps reconnecting with growing delays meanwhile.
    for (let round = 0; round < 4; round++) {
      const now = Date.now();
      note('useToken', await failsFast('useToken', () => store.useToken(user.id, token.hash, now, '::1')));
      note('insertToken', await failsFast('insertToken', () => store.insertToken(newToken(user.id), { max: 5, onLimit: 'evict' }, now)));
      note('createUser', await failsFast('createUser', () => store.createUser(newUser())));
      note('ping', await failsFast('ping', () => store.ping()));
      note('useAccessToken', await failsFast('useAccessToken', () => store.useAccessToken(user.id, hex64(), now)));
      note('getUser', await failsFast('getUser', () => store.getUser(user.id)));
      note('listTokens', await failsFast('listTokens', () => store.listTokens(user.id, now)));
      note('hitCounter', await failsFast('hitCounter', () => store.hitCounter('k', 60_000, now)));
      await new Promise((r) => setTimeout(r, 300));
    }
    // Many at once fail together, not one after another.
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => store.useToken(user.id, token.hash, Date.now(), '::1')));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof TemporarilyUnavailable)).toBe(true);
    expect(Date.now() - started).toBeLessThan(FAST_MS);
    console.info('killed server, ms per call:', JSON.stringify(timings));
  });

  it('hung server (SIGSTOP: TCP still accepted, nothing answered): calls time out after commandTimeout', async () => {
    const { server: s, store, user, token } = await working();
    s.process.kill('SIGSTOP');
    try {
      const elapsed = await failsFast('useToken', () => store.useToken(user.id, token.hash, Date.now(), '::1'));
      expect(elapsed).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 20);
      await failsFast('insertToken', () => store.insertToken(newToken(user.id), { max: 5, onLimit: 'evict' }, Date.now()));
      await failsFast('createUser', () => store.createUser(newUser()));
      await failsFast('ping', () => store.ping());
    } finally {
      s.process.kill('SIGCONT');
    }
  });

  it('slow server (DEBUG SLEEP 1 from another client): useToken rejects instead of waiting, then recovers', async () => {
    const { server: s, store, user, token } = await working(['--enable-debug-command', 'local']);
    const side = sideClient(s.url);
    await side.ping();
    const sleeping = side.call('DEBUG', 'SLEEP', '1');
    await new Promise((r) => setTimeout(r, 50)); // let the server start sleeping
    const elapsed = await failsFast('useToken', () => store.useToken(user.id, token.hash, Date.now(), '::1'), 1000);
    expect(elapsed).toBeLessThan(1000 - 50); // did not wait for the sleep to end
    await sleeping;
    // The connection is still usable: late replies went to the timed-out commands, not to new ones.
    const now = Date.now();
    const use = await store.useToken(user.id, token.hash, now, '::1');
    expect(use?.token).toMatchObject({ id: token.id, lastUsedAt: now });
    expect(await store.getUser(user.id)).toEqual(user);
  });

  it('paused clients (CLIENT PAUSE 2000): useToken rejects instead of waiting, then recovers', async () => {
    const { server: s, store, user, token } = await working();
    const side = sideClient(s.url);
    await side.call('CLIENT', 'PAUSE', '2000', 'ALL');
    await failsFast('useToken', () => store.useToken(user.id, token.hash, Date.now(), '::1'), 1000);
    await side.call('CLIENT', 'UNPAUSE');
    expect((await store.useToken(user.id, token.hash, Date.now(), '::1'))?.token.id).toBe(token.id);
  });

  it('recovers by itself once Redis is back on the same address', async () => {
    const { server: s, store, user, token } = await working();
    await s.stop();
    await failsFast('useToken', () => store.useToken(user.id, token.hash, Date.now(), '::1'));
    const back = await startRedisServer({ port: s.port });
    cleanups.push(() => back.stop());
    // The data died with the old (non-persistent) server; what matters is that calls work again.
    const deadline = Date.now() + 5000;
    let answer: unknown = 'never answered';
    while (Date.now() < deadline) {
      answer = await store.useToken(user.id, token.hash, Date.now(), '::1').catch((e: unknown) => e);
      if (!(answer instanceof TemporarilyUnavailable)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBeNull(); // reachable again, and the token is unknown to the new server
    await store.createUser(user);
    expect(await store.getUser(user.id)).toEqual(user);
  });

  it('no server at all (never connected): calls reject fast', async () => {
    const port = await freePort();
    const store = storeOn(`redis://127.0.0.1:${port}`);
    await failsFast('ping', () => store.ping());
    await failsFast('useToken', () => store.useToken(base62(12), hex64(), Date.now(), '::1'));
    await failsFast('createUser', () => store.createUser(newUser()));
  });
});
