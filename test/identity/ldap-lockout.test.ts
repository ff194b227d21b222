/**
 * A directory outage is not a wrong password: sign-ins that could not be checked (slapd hung or
 * stopped) never count toward lockout, while a wrong password for an account whose own source did
 * answer still does. Real slapd (test/helpers/slapd.ts), real app over HTTP, real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js';

describe('LDAP outage and lockout (real slapd)', () => {
  let slapd: Slapd;
  let gw: TestGateway;

  const login = (username: string, password: string, source?: string) => gw.api('POST', '/api/v1/login', { body: { username, password, source } });
  const failures = async (name: string) => (await gw.services.store.getCounter(`login:${name}`, gw.clock.now)).count;

  beforeAll(async () => {
    slapd = await startSlapd();
    gw = await startTestGateway({
      config: {
        auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 6, maxFailuresPerIp: 100, window: '15m' } },
        ldap: [
          {
            id: 'corp',
            displayName: 'Corporate directory',
            url: slapd.url,
            insecureNoTls: true,
            bindDn: SERVICE_DN,
            bindPassword: SERVICE_PASSWORD,
            userSearch: { baseDn: `ou=people,${BASE_DN}`, filter: '(objectClass=inetOrgPerson)' },
            connectTimeout: '1s',
            timeout: '1s',
            revalidateInterval: 0,
          },
        ],
      },
    });
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'lou', password: 'lou-local-password' } })).status).toBe(201);
    // alice becomes a Tessera user of the corp source.
    expect((await login('alice', 'alice-ldap-password')).status).toBe(200);
  });

  afterAll(async () => {
    await gw?.stop();
    await slapd?.stop();
  });

  it('while the directory hangs, sign-ins answer 503 and count nothing; afterwards the owner signs in at once', async () => {
    await slapd.pause();
    try {
      // More than the account+address limit (3), with right and wrong passwords alike.
      for (const password of ['alice-ldap-password', 'mistyped-password', 'alice-ldap-password', 'mistyped-again', 'alice-ldap-password']) {
        const res = await login('alice', password, 'corp');
        expect(res.status).toBe(503);
        expect(res.body.error).toBe('temporarily_unavailable');
      }
    } finally {
      slapd.resume();
    }
    expect(await failures('acct:alice')).toBe(0);
    expect((await login('alice', 'alice-ldap-password', 'corp')).status).toBe(200);
  });

  it('with the directory stopped: its users are not counted; a local account’s wrong password still is', async () => {
    await slapd.stop();
    for (let i = 0; i < 5; i++) {
      expect((await login('alice', `guess-${i}-guess`)).status).toBe(503);
      // A name no source knows: nothing to lock, nothing counted.
      expect((await login('nobody-known', `guess-${i}-guess`)).status).toBe(503);
    }
    expect(await failures('acct:alice')).toBe(0);
    expect(await failures('acct:nobody-known')).toBe(0);
    // lou is a local account and the local source answered: an outage elsewhere is no free pass.
    for (let i = 0; i < 3; i++) expect((await login('lou', `guess-${i}-guess`)).status).toBe(401);
    expect((await login('lou', 'lou-local-password')).status).toBe(429);
    expect(await failures('acct:lou')).toBe(3);
  });
});
