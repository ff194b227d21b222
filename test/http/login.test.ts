import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** scrypt verifications, counted: "comparable time" is checked as the same work, not measured. */
const verifications = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/identity/passwords.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/identity/passwords.js')>();
  return {
    ...original,
    verifyPassword: (password: string, encoded: string) => {
      verifications.count++;
      return original.verifyPassword(password, encoded);
    },
  };
});

describe('login sessions (POST /api/v1/login) on Redis', () => {
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 6, maxFailuresPerIp: 50, window: '10m' } } } });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob', 'carol', 'dave']) {
      const res = await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  it('returns an access/refresh pair with the documented lifetimes', async () => {
    const res = await gw.api('POST', '/api/v1/login', { body: { username: 'alice', password: 'alice-password' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_expires_in: 30 * 86400 });
    expect(res.body.access_token).toMatch(/^tsa_/);
    expect(res.body.refresh_token).toMatch(/^tsrt_/);
    const me = await gw.api('GET', '/api/v1/me', { token: res.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'alice', role: 'normal', source: 'local', authenticated_with: 'login' });
    expect(me.body.password_hash).toBeUndefined();
    expect(JSON.stringify(me.body)).not.toMatch(/scrypt/);
  });

  it('access tokens expire after 5 minutes; refresh rotates; a reused refresh token revokes the login', async () => {
    const first = (await gw.api('POST', '/api/v1/login', { body: { username: 'bob', password: 'bob-password' } })).body;
    gw.clock.advance(5 * 60_000 + 1);
    expect((await gw.api('GET', '/api/v1/me', { token: first.access_token })).status).toBe(401);

    const second = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: first.refresh_token } });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await gw.api('GET', '/api/v1/me', { token: second.body.access_token })).status).toBe(200);

    // The old refresh token again: a thief or a replay. The whole login ends.
    const reuse = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: first.refresh_token } });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    expect((await gw.api('GET', '/api/v1/me', { token: second.body.access_token })).status).toBe(401);
    const after = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: second.body.refresh_token } });
    expect(after.status).toBe(400);
  });

  it('logout ends the login', async () => {
    const pair = (await gw.api('POST', '/api/v1/login', { body: { username: 'alice', password: 'alice-password' } })).body;
    expect((await gw.api('POST', '/api/v1/logout', { token: pair.access_token })).status).toBe(204);
    expect((await gw.api('GET', '/api/v1/me', { token: pair.access_token })).status).toBe(401);
    expect((await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: pair.refresh_token } })).status).toBe(400);
  });

  it('answers unknown user and wrong password with the same 401, after the same work', async () => {
    const attempt = async (username: string) => {
      const before = verifications.count;
      const res = await gw.api('POST', '/api/v1/login', { body: { username, password: 'wrong-password' }, headers: { 'x-test': username } });
      return { res, scrypts: verifications.count - before };
    };
    const wrong = await attempt('carol');
    const unknown = await attempt('nobody-here');
    expect(wrong.res.status).toBe(401);
    expect(unknown.res.status).toBe(401);
    expect(unknown.res.body).toEqual(wrong.res.body);
    // Both pay for exactly one scrypt (the unknown user against a dummy hash of the same cost).
    expect(wrong.scrypts).toBe(1);
    expect(unknown.scrypts).toBe(1);
  });

  it('throttles repeated failures per account and IP, with Retry-After, and the lock expires', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await gw.api('POST', '/api/v1/login', { body: { username: 'dave', password: 'nope-nope' } })).status).toBe(401);
    }
    const locked = await gw.api('POST', '/api/v1/login', { body: { username: 'dave', password: 'dave-password' } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    gw.clock.advance(10 * 60_000 + 1);
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'dave', password: 'dave-password' } })).status).toBe(200);
  });

  it('the limit holds for guesses sent in parallel and for other spellings of the name', async () => {
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'erin', password: 'erin-password' } });
    const names = ['erin', 'Erin', 'ERIN', ' erin', 'erin '];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => gw.api('POST', '/api/v1/login', { body: { username: names[i % names.length], password: `guess-${i}-guess` } })),
    );
    const statuses = results.map((r) => r.status);
    // maxFailuresPerAccountAndIp is 3: three guesses are checked, every other one is refused unchecked.
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(17);
    gw.clock.advance(10 * 60_000 + 1);
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'erin', password: 'erin-password' } })).status).toBe(200);
  });

  it('successful logins take their attempt back: they never add up to a lock', async () => {
    // maxFailuresPerAccount is 6 and maxFailuresPerAccountAndIp 3 here.
    for (let i = 0; i < 10; i++) {
      expect((await gw.api('POST', '/api/v1/login', { body: { username: 'bob', password: 'bob-password' } })).status).toBe(200);
    }
  });

  it('a disabled user cannot log in and their sessions end at once', async () => {
    const token = await gw.login('carol', 'carol-password');
    expect((await gw.api('PATCH', '/api/v1/users/carol', { token: admin, body: { enabled: false } })).status).toBe(200);
    expect((await gw.api('GET', '/api/v1/me', { token })).status).toBe(401);
    const res = await gw.api('POST', '/api/v1/login', { body: { username: 'carol', password: 'carol-password' } });
    expect(res.status).toBe(401);
    await gw.api('PATCH', '/api/v1/users/carol', { token: admin, body: { enabled: true } });
  });

  it('a password reset ends existing sessions', async () => {
    const token = await gw.login('alice', 'alice-password');
    gw.clock.advance(1);
    expect((await gw.api('PATCH', '/api/v1/users/alice', { token: admin, body: { password: 'alice-new-password' } })).status).toBe(200);
    expect((await gw.api('GET', '/api/v1/me', { token })).status).toBe(401);
    expect(await gw.login('alice', 'alice-new-password')).toMatch(/^tsa_/);
  });
});

describe('auth.passwordApiLogin: false', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ config: { auth: { passwordApiLogin: false } } });
  });
  afterAll(() => gw?.stop());

  it('refuses password login on the API', async () => {
    const res = await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('access_denied');
    expect(res.body.error_description).toMatch(/personal access token/);
  });
});

describe('behind a proxy (server.trustProxy)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ config: { server: { port: 0, host: '127.0.0.1', trustProxy: true }, auth: { lockout: { maxFailuresPerIp: 3, maxFailuresPerAccountAndIp: 100, maxFailuresPerAccount: 100 } } } });
  });
  afterAll(() => gw?.stop());

  it('takes the client IP the proxy appended, not entries the client wrote itself', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      // The client forges an entry; the proxy appends the address it really saw (10.0.0.7).
      const res = await gw.api('POST', '/api/v1/login', {
        body: { username: `spray-${i}`, password: 'guess-guess' },
        headers: { 'x-forwarded-for': `198.51.100.${i}, 10.0.0.7` },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const other = await gw.api('POST', '/api/v1/login', { body: { username: 'x', password: 'guess-guess' }, headers: { 'x-forwarded-for': '10.0.0.8' } });
    expect(other.status).toBe(401);
  });
});
