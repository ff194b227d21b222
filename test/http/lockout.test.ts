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

describe('a client retrying correct logins in parallel never locks anyone out', () => {
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway({
      config: {
        server: { port: 0, host: '127.0.0.1', trustProxy: true },
        auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 6, maxFailuresPerIp: 6, window: '15m' } },
      },
    });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'dora', password: 'dora-password' } })).status).toBe(201);
  });
  afterAll(() => gw?.stop());

  it('8 connections retrying after 429 for a few seconds: refusals never count, nobody is locked, no claim of failures', async () => {
    const ip = '203.0.113.50';
    const refusals: string[] = [];
    let successes = 0;
    const worker = async (username: string, password: string) => {
      const until = Date.now() + 4000;
      while (Date.now() < until) {
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

  it('refused attempts do not extend a real lock, and a correct password after it expires is not held against anyone', async () => {
    const ip = '203.0.113.60';
    for (let i = 0; i < 3; i++) {
      expect((await gw.api('POST', '/api/v1/login', { body: { username: 'dora', password: `wrong-${i}-wrong` }, headers: from(ip) })).status).toBe(401);
    }
    for (let i = 0; i < 50; i++) {
      const res = await gw.api('POST', '/api/v1/login', { body: { username: 'dora', password: 'dora-password' }, headers: from(ip) });
      expect(res.status).toBe(429);
      expect(res.body.error_description).toMatch(/failed attempts/);
    }
    // 3 failures, not 53: the account-wide limit (6) and the address limit (6) are not reached.
    expect((await gw.services.store.getCounter(`login:pair:${ip}:dora`, gw.clock.now)).count).toBe(3);
    expect((await gw.services.store.getCounter('login:acct:dora', gw.clock.now)).count).toBe(3);
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'dora', password: 'dora-password' }, headers: from('198.51.100.2') })).status).toBe(200);
    gw.clock.advance(15 * 60_000 + 1);
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'dora', password: 'dora-password' }, headers: from(ip) })).status).toBe(200);
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
