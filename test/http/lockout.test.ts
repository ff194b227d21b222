/**
 * Lockout that an attacker cannot aim, through the real app on Redis: known devices (device
 * credentials from an earlier successful login) against distributed guessing, and only wrong
 * passwords counting, so a client retrying correct logins never locks anyone out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('lockout with known devices (POST /api/v1/login, Redis)', () => {
  let gw: TestGateway;
  let admin: string;
  const login = (username: string, password: string, ip: string, device?: string) =>
    gw.api('POST', '/api/v1/login', { body: { username, password, device_token: device }, headers: from(ip) });

  beforeAll(async () => {
    // The defaults, spelled out: 5 per account+address, 50 per account, 10 per known device.
    gw = await startTestGateway({
      config: {
        server: { port: 0, host: '127.0.0.1', trustProxy: true },
        auth: { lockout: { maxFailuresPerAccountAndIp: 5, maxFailuresPerAccount: 50, maxFailuresPerIp: 100, maxFailuresPerDevice: 10, window: '15m' } },
      },
    });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob', 'carol']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  it('distributed failures (11 addresses x 5) lock out unknown sources, never the owner’s known client', async () => {
    const first = await login('alice', 'alice-password', '192.0.2.10');
    expect(first.status).toBe(200);
    const device = first.body.device_token as string;
    expect(device).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const statuses: number[] = [];
    for (let n = 1; n <= 11; n++) {
      for (let i = 0; i < 5; i++) statuses.push((await login('alice', `guess-${n}-${i}`, `203.0.113.${n}`)).status);
    }
    // 50 guesses were checked; the rest were refused unchecked: the attacker is slowed down.
    expect(statuses.filter((s) => s === 401)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    const attacker = await login('alice', 'alice-password', '203.0.113.99');
    expect(attacker.status).toBe(429);
    expect(attacker.body.error_description).toMatch(/failed attempts/);

    // The owner's known client, from an address never seen before, signs in; so does it again
    // with the renewed credential it got back.
    const owner = await login('alice', 'alice-password', '198.51.100.7', device);
    expect(owner.status).toBe(200);
    expect(owner.body.device_token).not.toBe(device);
    expect((await login('alice', 'alice-password', '198.51.100.8', owner.body.device_token)).status).toBe(200);

    // A credential for another account, a tampered one, or garbage is no known device.
    const bobDevice = (await login('bob', 'bob-password', '192.0.2.10')).body.device_token as string;
    const [h, p, s] = device.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'alice' })).toString('base64url')}x.${s}`;
    for (const wrong of [bobDevice, tampered, 'garbage', `${device}~${'x'.repeat(5000)}`]) {
      expect((await login('alice', 'alice-password', '198.51.100.9', wrong)).status).toBe(429);
    }
    // The lock of unknown sources ends with its window.
    gw.clock.advance(15 * 60_000 + 1);
    expect((await login('alice', 'alice-password', '203.0.113.99')).status).toBe(200);
  });

  it('a known device is throttled on its own failures, and only that device', async () => {
    const deviceA = (await login('carol', 'carol-password', '192.0.2.20')).body.device_token as string;
    const deviceB = (await login('carol', 'carol-password', '192.0.2.21')).body.device_token as string;
    for (let i = 0; i < 10; i++) expect((await login('carol', `typo-${i}-typo`, '192.0.2.20', deviceA)).status).toBe(401);
    expect((await login('carol', 'carol-password', '192.0.2.20', deviceA)).status).toBe(429);
    // Device B and unknown sources are untouched by device A's failures.
    expect((await login('carol', 'carol-password', '192.0.2.20', deviceB)).status).toBe(200);
    expect((await login('carol', 'carol-password', '192.0.2.22')).status).toBe(200);
  });

  it('a client keeps credentials for several accounts, one per account', async () => {
    const one = (await login('bob', 'bob-password', '192.0.2.30')).body.device_token as string;
    const both = (await login('carol', 'carol-password', '192.0.2.30', one)).body.device_token as string;
    expect(both.split('~')).toHaveLength(2);
    expect(both.split('~')[1]).toBe(one);
    const again = (await login('bob', 'bob-password', '192.0.2.30', both)).body.device_token as string;
    expect(again.split('~')).toHaveLength(2);
    expect(again.split('~')).not.toContain(one);
  });

  it('a device credential expires after auth.lockout.deviceTtl', async () => {
    const device = (await login('bob', 'bob-password', '192.0.2.40')).body.device_token as string;
    for (let i = 0; i < 5; i++) await login('bob', `guess-${i}-guess`, '192.0.2.40');
    expect((await login('bob', 'bob-password', '192.0.2.40', device)).status).toBe(200);
    gw.clock.advance(180 * 86_400_000 + 1000);
    for (let i = 0; i < 5; i++) await login('bob', `guess-${i}-guess`, '192.0.2.40');
    expect((await login('bob', 'bob-password', '192.0.2.40', device)).status).toBe(429);
  });
});

describe('parallel sign-ins: honest ones wait their turn, guesses never overshoot a limit', () => {
  let gw: TestGateway;
  let admin: string;
  const login = (username: string, password: string, ip: string) => gw.api('POST', '/api/v1/login', { body: { username, password }, headers: from(ip) });

  beforeAll(async () => {
    // concurrentWait at its default (10s): an attempt finding the limit full of attempts in
    // flight waits for them to be decided.
    gw = await startTestGateway({
      config: {
        server: { port: 0, host: '127.0.0.1', trustProxy: true },
        auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 6, maxFailuresPerIp: 6, window: '15m' } },
      },
    });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['ci-bot', 'erin']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  it('20 concurrent correct sign-ins as one account from one address all succeed; nothing is counted', async () => {
    const ip = '203.0.113.40';
    const results = await Promise.all(Array.from({ length: 20 }, () => login('ci-bot', 'ci-bot-password', ip)));
    expect(results.map((r) => `${r.status} ${r.body.error_description ?? ''}`)).toEqual(Array(20).fill('200 '));
    for (const key of ['login:acct:ci-bot', `login:pair:${ip}:ci-bot`, `login:ip:${ip}`]) {
      expect((await gw.services.store.getCounter(key, gw.clock.now)).count, key).toBe(0);
    }
  });

  it('20 concurrent wrong guesses: exactly the limit (3) are checked, the rest refused as locked, 3 failures recorded', async () => {
    const ip = '203.0.113.41';
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login('erin', `guess-${i}-guess`, ip)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(17);
    for (const refused of results.filter((r) => r.status === 429)) expect(refused.body.error_description).toMatch(/failed attempts/);
    expect((await gw.services.store.getCounter(`login:pair:${ip}:erin`, gw.clock.now)).count).toBe(3);
    expect((await gw.services.store.getCounter('login:acct:erin', gw.clock.now)).count).toBe(3);
    // The right password from there is refused now too, unchecked; from elsewhere it works.
    expect((await login('erin', 'erin-password', ip)).status).toBe(429);
    expect((await login('erin', 'erin-password', '198.51.100.3')).status).toBe(200);
  });

  it('correct and wrong passwords mixed, in parallel: guesses never get past the limits a success does not clear', async () => {
    // An attacker behind the same NAT as the fleet: each correct sign-in clears the
    // account+address failures (they were typos, as far as anyone can tell), so that limit
    // (3) alone does not bound the guesses here; the account-wide and address limits (6 each),
    // which no success clears, do, however many arrive at once.
    const ip = '203.0.113.42';
    const sent = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? login('ci-bot', 'ci-bot-password', ip) : login('ci-bot', `guess-${i}-guess`, ip)));
    const statuses = (await Promise.all(sent)).map((r) => r.status);
    expect(statuses.every((s) => [200, 401, 429].includes(s))).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect((await gw.services.store.getCounter('login:acct:ci-bot', gw.clock.now)).count).toBeLessThanOrEqual(6);
    expect((await gw.services.store.getCounter(`login:ip:${ip}`, gw.clock.now)).count).toBeLessThanOrEqual(6);
    expect((await gw.services.store.getCounter(`login:pair:${ip}:ci-bot`, gw.clock.now)).count).toBeLessThanOrEqual(3);
    gw.clock.advance(15 * 60_000 + 1);
  });

  it('refused attempts do not extend a real lock, and a correct password after it expires is not held against anyone', async () => {
    const ip = '203.0.113.60';
    for (let i = 0; i < 3; i++) {
      expect((await login('erin', `wrong-${i}-wrong`, ip)).status).toBe(401);
    }
    for (let i = 0; i < 50; i++) {
      const res = await login('erin', 'erin-password', ip);
      expect(res.status).toBe(429);
      expect(res.body.error_description).toMatch(/failed attempts/);
    }
    // 3 failures, not 53: the address limit (6) is not reached.
    expect((await gw.services.store.getCounter(`login:pair:${ip}:erin`, gw.clock.now)).count).toBe(3);
    expect((await gw.services.store.getCounter(`login:ip:${ip}`, gw.clock.now)).count).toBe(3);
    gw.clock.advance(15 * 60_000 + 1);
    expect((await login('erin', 'erin-password', ip)).status).toBe(200);
  });
});

describe('with auth.lockout.concurrentWait: 0s, a client retrying correct logins in parallel is refused at once but never locks anyone out', () => {
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway({
      config: {
        server: { port: 0, host: '127.0.0.1', trustProxy: true },
        auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 6, maxFailuresPerIp: 6, window: '15m', concurrentWait: '0s' } },
      },
    });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'dora', password: 'dora-password' } })).status).toBe(201);
  });
  afterAll(() => gw?.stop());

  it('8 connections retrying after 429, 25 requests each: refusals never count, nobody is locked, no claim of failures', async () => {
    const ip = '203.0.113.50';
    const refusals: string[] = [];
    let successes = 0;
    const worker = async (username: string, password: string) => {
      for (let i = 0; i < 25; i++) {
        const res = await gw.api('POST', '/api/v1/login', { body: { username, password }, headers: from(ip) });
        if (res.status === 200) successes++;
        else if (res.status === 429) refusals.push(res.body.error_description);
        else throw new Error(`unexpected ${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    // Seven connections for dora and one for admin, all from one address.
    await Promise.all([...Array.from({ length: 7 }, () => worker('dora', 'dora-password')), worker('admin', ADMIN_PASSWORD)]);
    if (process.env.TESSERA_REPORT) console.log(`retry storm: ${successes} successes, ${refusals.length} refusals`);
    expect(successes).toBeGreaterThan(8);
    // More in flight than the limit allows are refused, but as "at the same time", never "failed".
    expect(refusals.length).toBeGreaterThan(0);
    for (const message of refusals) {
      expect(message).toMatch(/at the same time/);
      expect(message).not.toMatch(/failed/);
    }
    // Nothing was counted: no failure counter exists for the account or the address.
    const store = gw.services.store;
    for (const key of ['login:acct:dora', `login:pair:${ip}:dora`, `login:ip:${ip}`, 'login:acct:admin', `login:pair:${ip}:admin`]) {
      expect((await store.getCounter(key, gw.clock.now)).count, key).toBe(0);
    }
    // Neither the account, nor the address (for any account, admin included), nor admin is locked.
    const ok = async (username: string, password: string, at: string) =>
      expect((await gw.api('POST', '/api/v1/login', { body: { username, password }, headers: from(at) })).status).toBe(200);
    await ok('dora', 'dora-password', ip);
    await ok('dora', 'dora-password', '198.51.100.1');
    await ok('admin', ADMIN_PASSWORD, ip);
    await ok('admin', ADMIN_PASSWORD, '198.51.100.1');
  });
});

describe('usernames ignore case', () => {
  let gw: TestGateway;
  let admin: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  it('refuses a user whose name differs from an existing one only in case or width', async () => {
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'Erin', password: 'erin-password' } })).status).toBe(201);
    for (const username of ['erin', 'ERIN', 'Admin', 'ADMIN']) {
      const res = await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: 'another-password' } });
      expect(res.status, username).toBe(409);
      expect(res.body.error_description).toMatch(/already exists/);
    }
    // Any spelling signs in to the one account, under its stored name.
    const token = await gw.login('ERIN', 'erin-password');
    expect((await gw.api('GET', '/api/v1/me', { token })).body.username).toBe('Erin');
    // An admin cannot disable themselves by spelling their name differently.
    expect((await gw.api('PATCH', '/api/v1/users/ADMIN', { token: admin, body: { enabled: false } })).status).toBe(400);
  });
});
