/**
 * Redis dies mid-run: the gateway must fail closed. No token is reported active, answers are
 * fast 503 `temporarily_unavailable`, and nothing is half-written.
 *
 * "Fast" is checked by the work done, not by the clock (the machine may be loaded): every store
 * call a request makes during the outage fails on the store's immediate "not connected" path
 * (never by waiting out the command timeout), and a request makes a bounded number of them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/** The store calls requests made, and how each failed. */
const calls: { op: string; error?: string }[] = [];

function recordCalls(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call: { op: string; error?: string } = { op: String(prop) };
        calls.push(call);
        const result = value.apply(target, args);
        return result instanceof Promise ? result.catch((err: Error) => ((call.error = err.message), Promise.reject(err))) : result;
      };
    },
  });
}

describe('Redis outage', () => {
  let redis: RedisServer;
  let gw: TestGateway;
  let admin: string;
  let pat: string;
  let providerToken: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    gw = await startTestGateway({ redisUrl: redis.url, wrapStore: recordCalls });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    pat = (await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'before the outage' } })).body.token;
    expect((await gw.introspect(pat)).body.active).toBe(true);
    const issued = await gw.api('POST', '/oauth2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    providerToken = issued.body.access_token;
    expect((await gw.introspect(providerToken)).body.active).toBe(true);
    await redis.stop();
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
  });

  beforeEach(() => {
    calls.length = 0;
  });

  it('introspection answers 503 temporarily_unavailable, never active, failing at once', async () => {
    for (let i = 0; i < 3; i++) {
      const before = calls.length;
      const result = await gw.introspect(pat);
      expect(result.status).toBe(503);
      expect(result.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the server could not complete the request' });
      expect(result.body.active).toBeUndefined();
      expect(result.headers.get('retry-after')).toBe('1');
      const made = calls.slice(before);
      expect(made.map((c) => c.op)).toContain('useToken');
      expect(made.length).toBeLessThanOrEqual(3);
      for (const call of made) expect(call.error, call.op).toMatch(/not connected/);
    }
  });

  it('provider tokens too: 503 temporarily_unavailable from oidc-provider\'s endpoints', async () => {
    const res = await gw.introspect(providerToken);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the server could not complete the request' });
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('forward auth and the API answer 503, not 401 or 200', async () => {
    expect((await gw.api('GET', '/auth/verify', { token: pat })).status).toBe(503);
    expect((await gw.api('GET', '/api/v1/me', { token: pat })).status).toBe(503);
    expect((await gw.api('GET', '/readyz')).status).toBe(503);
    expect((await gw.api('GET', '/healthz')).status).toBe(200);
  });

  it('writes fail with a clear error', async () => {
    const login = await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(login.status).toBe(503);
    expect(login.body.error).toBe('temporarily_unavailable');
  });
});
