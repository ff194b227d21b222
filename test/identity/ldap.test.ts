/**
 * LDAP sign-in against a real OpenLDAP (test/helpers/slapd.ts, fixture test/fixtures/ldap/users.ldif),
 * through the real app over HTTP. A Tessera user belongs to the source it first signed in with,
 * so each source here gets users of its own.
 */
import { Attribute, Change, type Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Unauthorized } from '../../src/errors.js';
import { LdapConnection } from '../../src/identity/ldap/connection.js';
import type { LdapSource } from '../../src/identity/ldap/ldap-source.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BASE_DN, freePort, SERVICE_DN, SERVICE_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js';

const PEOPLE = `ou=people,${BASE_DN}`;
const GROUPS = `ou=groups,${BASE_DN}`;
const dnOf = (uid: string) => `uid=${uid},${PEOPLE}`;


describe('LDAP identity source (real slapd)', () => {
  let slapd: Slapd;
  let gw: TestGateway;
  let admin: string;
  let directory: Client;

  const source = (id: string, overrides: Record<string, unknown> = {}) => ({
    id,
    displayName: `Directory ${id}`,
    url: slapd.url,
    insecureNoTls: true,
    bindDn: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    userSearch: { baseDn: PEOPLE, filter: '(objectClass=inetOrgPerson)' },
    disabledFilter: '(employeeType=disabled)',
    groups: { search: { baseDn: GROUPS, filter: '(member={dn})' } },
    roleMapping: { admin: ['tessera-admins'] },
    connectTimeout: '1s',
    timeout: '1s',
    // Rounds are run by the tests (runOnce), never by a timer in the middle of one.
    revalidateInterval: 0,
    ...overrides,
  });

  const ldapSource = (id: string): LdapSource => gw.services.ldapSources.find((s) => s.id === id)!;
  const login = (username: string, password: string, from: string) =>
    gw.api('POST', '/api/v1/login', { body: { username, password, source: from } });
  const personalToken = async (username: string, password: string, from: string) => {
    const res = await login(username, password, from);
    expect(res.status).toBe(200);
    const created = await gw.api('POST', '/api/v1/tokens', { token: res.body.access_token, body: { name: 'ci', expires_in: '30d' } });
    expect(created.status).toBe(201);
    return created.body.token as string;
  };
  const active = async (token: string) => (await gw.introspect(token)).body.active as boolean;
  // slapd logs each bind twice (request and result); the request line carries `method=`.
  const bindsLogged = (dn: string) => slapd.output().split(`BIND dn="${dn}" method=`).length - 1;
  /** Binds of `dn` slapd has logged, once its log has been quiet for a moment (it is written asynchronously). */
  const binds = async (dn: string) => {
    let count = bindsLogged(dn);
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = bindsLogged(dn);
      if (now === count) return count;
      count = now;
    }
  };

  beforeAll(async () => {
    slapd = await startSlapd();
    gw = await startTestGateway({
      config: {
        ldap: [
          source('corp'),
          source('corp-ldaps', { url: slapd.ldapsUrl, insecureNoTls: false, tls: { caFile: slapd.caFile } }),
          source('corp-starttls', { startTls: true, insecureNoTls: false, tls: { ca: slapd.caPem } }),
          source('ldaps-no-ca', { url: slapd.ldapsUrl, insecureNoTls: false }),
          source('starttls-no-ca', { startTls: true, insecureNoTls: false }),
          // Nothing listens there, so connecting is refused at once.
          source('down', { url: `ldap://127.0.0.1:${await freePort()}` }),
          // memberOf (overlay) instead of a group search; only members of developers get in.
          source('devs', { groups: { memberOfAttribute: 'memberOf' }, requireGroup: 'developers' }),
          // RFC 2307 groups, matched by name.
          source('posix', { groups: { search: { baseDn: GROUPS, filter: '(memberUid={username})' } }, roleMapping: undefined }),
          // Direct bind to a DN built from the username, reading as the user (no service account).
          source('template', {
            bindDn: undefined,
            bindPassword: undefined,
            userSearch: undefined,
            bindDnTemplate: `uid={username},${PEOPLE}`,
            groups: { memberOfAttribute: 'memberOf' },
          }),
        ],
      },
    });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    directory = await slapd.admin();
  });

  afterAll(async () => {
    await directory?.unbind().catch(() => {});
    await gw?.stop();
    await slapd?.stop();
  });

  it('signs in with the directory password and creates the Tessera user with groups and role', async () => {
    const res = await login('alice', 'alice-ldap-password', 'corp');
    expect(res.status).toBe(200);
    expect(res.body.access_token).toMatch(/^tsa_/);
    const me = await gw.api('GET', '/api/v1/me', { token: res.body.access_token });
    expect(me.body).toMatchObject({
      username: 'alice',
      source: 'corp',
      display_name: 'Alice Liddell',
      email: 'alice@example.org',
      groups: ['developers', 'tessera-admins'],
      role: 'admin',
      token_creator: true,
    });

    const bob = await login('bob', 'bob-ldap-password', 'corp');
    const bobMe = await gw.api('GET', '/api/v1/me', { token: bob.body.access_token });
    expect(bobMe.body).toMatchObject({ username: 'bob', source: 'corp', groups: ['developers'], role: 'normal' });

    // Personal access tokens work for LDAP users like for anyone else.
    const pat = await personalToken('alice', 'alice-ldap-password', 'corp');
    expect(await gw.introspect(pat)).toMatchObject({ status: 200, body: { active: true, username: 'alice' } });
  });

  it('answers a wrong password and an unknown user with the same 401', async () => {
    const wrong = await login('bob', 'not-bobs-password', 'corp');
    const unknown = await login('nobody-here', 'whatever-password', 'corp');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body.error).toBe('invalid_grant');
  });

  it('refuses filter-injection usernames with the same 401', async () => {
    const reference = (await login('nobody-here', 'alice-ldap-password', 'corp')).body;
    const before = await binds(dnOf('alice'));
    // Unescaped, `al*` and `alice)(uid=*` would each find exactly alice and sign in with her password.
    for (const username of ['*)(uid=*', 'admin)(|(uid=*', '*', 'alice)(uid=*', 'al*', '*)(|(objectClass=*']) {
      const res = await login(username, 'alice-ldap-password', 'corp');
      expect(res.status, username).toBe(401);
      expect(res.body).toEqual(reference);
    }
    expect(await binds(dnOf('alice'))).toBe(before);
    // What reached the server: the metacharacters as escaped values (slapd prints hex in upper case).
    expect(slapd.output()).toContain('(uid=al\\2A)');
  });

  it('never binds with an empty password', async () => {
    const before = await binds(dnOf('alice'));
    // The API refuses an empty password before any source (400), LoginService with 401, and
    // the source itself answers null without touching the directory.
    const api = await login('alice', '', 'corp');
    expect(api.status).toBe(400);
    expect(api.body.access_token).toBeUndefined();
    await expect(gw.services.login.login('alice', '', '127.0.0.1', 'corp')).rejects.toBeInstanceOf(Unauthorized);
    await expect(gw.services.login.login('alice', '', '127.0.0.1', 'corp')).rejects.toMatchObject({ status: 401 });
    expect(await ldapSource('corp').authenticate('alice', '')).toBeNull();
    expect(await ldapSource('template').authenticate('alice', '')).toBeNull();
    expect(await binds(dnOf('alice'))).toBe(before);
    // The counter does move for a real attempt.
    await login('alice', 'alice-ldap-password', 'corp');
    expect(await binds(dnOf('alice'))).toBe(before + 1);
  });

  it('keeps out a user disabled in the directory, even with the right password', async () => {
    const res = await login('dave', 'dave-ldap-password', 'corp');
    expect(res.status).toBe(401);
    expect(await binds(dnOf('dave'))).toBe(0);
  });

  it('requireGroup: only members sign in', async () => {
    expect((await login('carol', 'carol-ldap-password', 'devs')).status).toBe(401);
    const grace = await login('grace', 'grace-ldap-password', 'devs');
    expect(grace.status).toBe(200);
  });

  it('revalidation: a user deleted from the directory loses their tokens, and gets them back on return', async () => {
    const frankPat = await personalToken('frank', 'frank-ldap-password', 'corp');
    const alicePat = await personalToken('alice', 'alice-ldap-password', 'corp');
    expect(await active(frankPat)).toBe(true);

    await directory.del(dnOf('frank'));
    const round = await ldapSource('corp').revalidator.runOnce();
    expect(round).toMatchObject({ disabled: ['frank'], enabled: [] });
    expect(round.skipped).toBeUndefined();
    expect((await gw.introspect(frankPat)).body).toEqual({ active: false });
    expect(await active(alicePat)).toBe(true);
    const users = await gw.api('GET', '/api/v1/users/frank', { token: admin });
    expect(users.body.enabled).toBe(false);

    await directory.add(dnOf('frank'), {
      objectClass: 'inetOrgPerson',
      uid: 'frank',
      cn: 'Frank Leaving',
      sn: 'Leaving',
      mail: 'frank@example.org',
      userPassword: 'frank-ldap-password',
    });
    expect(await ldapSource('corp').revalidator.runOnce()).toMatchObject({ disabled: [], enabled: ['frank'] });
    expect(await active(frankPat)).toBe(true);
  });

  it('revalidation never re-enables a user an admin disabled in Tessera', async () => {
    const bobPat = await personalToken('bob', 'bob-ldap-password', 'corp');
    expect((await gw.api('PATCH', '/api/v1/users/bob', { token: admin, body: { enabled: false } })).status).toBe(200);
    expect(await ldapSource('corp').revalidator.runOnce()).toMatchObject({ enabled: [], disabled: [] });
    expect(await active(bobPat)).toBe(false);
    await gw.api('PATCH', '/api/v1/users/bob', { token: admin, body: { enabled: true } });
    expect(await active(bobPat)).toBe(true);
  });

  it('revalidation: leaving requireGroup disables the user; role changes reach existing users', async () => {
    const gracePat = await personalToken('grace', 'grace-ldap-password', 'devs');
    const modify = (group: string, operation: 'add' | 'delete', uid: string) =>
      directory.modify(`cn=${group},${GROUPS}`, new Change({ operation, modification: new Attribute({ type: 'member', values: [dnOf(uid)] }) }));

    await modify('developers', 'delete', 'grace');
    expect(await ldapSource('devs').revalidator.runOnce()).toMatchObject({ disabled: ['grace'] });
    expect(await active(gracePat)).toBe(false);
    expect((await login('grace', 'grace-ldap-password', 'devs')).status).toBe(401);

    await modify('developers', 'add', 'grace');

    // Role changes reach existing users at the next round, both ways.
    const role = async () => (await gw.api('GET', '/api/v1/users/bob', { token: admin })).body;
    await modify('tessera-admins', 'add', 'bob');
    expect((await ldapSource('corp').revalidator.runOnce()).refreshed).toEqual(['bob']);
    expect(await role()).toMatchObject({ role: 'admin', groups: ['developers', 'tessera-admins'], enabled: true });
    await modify('tessera-admins', 'delete', 'bob');
    expect((await ldapSource('corp').revalidator.runOnce()).refreshed).toEqual(['bob']);
    expect(await role()).toMatchObject({ role: 'normal', groups: ['developers'], enabled: true });
  });

  it('a round while the directory hangs changes nobody', async () => {
    await slapd.pause();
    try {
      const round = await ldapSource('corp').revalidator.runOnce();
      expect(round).toMatchObject({ checked: 0, disabled: [], skipped: expect.any(String) });
    } finally {
      slapd.resume();
    }
    const users = await gw.api('GET', '/api/v1/users', { token: admin });
    const corp = (users.body.users ?? users.body).filter((u: { source: string }) => u.source === 'corp');
    expect(corp.length).toBeGreaterThan(0);
    expect(corp.every((u: { enabled: boolean }) => u.enabled)).toBe(true);
  });

  it('a hung directory answers 503 temporarily_unavailable within the timeout, and no token', async () => {
    await slapd.pause();
    let res;
    // A stopped slapd never answers, so a 503 can only come from the 1 s operation timeout; no
    // elapsed-time bound here, which a machine at load 10 would break.
    try {
      res = await login('alice', 'alice-ldap-password', 'corp');
    } finally {
      slapd.resume();
    }
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(res.body.access_token).toBeUndefined();
    // Back up: the next sign-in opens a new service connection.
    expect((await login('alice', 'alice-ldap-password', 'corp')).status).toBe(200);
  });

  it('after a directory restart: a new service connection, bound again; never a silent reconnect', async () => {
    expect((await login('alice', 'alice-ldap-password', 'corp')).status).toBe(200);
    const settings = { url: slapd.url, startTls: false, tls: {}, connectTimeoutMs: 1000, timeoutMs: 1000 };
    const raw = await new LdapConnection(settings).open(SERVICE_DN, SERVICE_PASSWORD);
    const serviceBinds = await binds(SERVICE_DN);

    await slapd.restart();

    // ldapts alone would reconnect this client unbound (and, with StartTLS, in clear); here it fails.
    await expect(raw.client.search(PEOPLE, { filter: '(uid=alice)' })).rejects.toThrow(/connection/i);
    raw.destroy();
    // The source notices the dropped connection and binds a new one: still 200, not 503.
    expect((await login('alice', 'alice-ldap-password', 'corp')).status).toBe(200);
    expect(await binds(SERVICE_DN)).toBeGreaterThan(serviceBinds);
  });

  it('a directory that refuses connections answers 503 at once', async () => {
    const start = performance.now();
    const res = await login('alice', 'alice-ldap-password', 'down');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(res.body.access_token).toBeUndefined();
  });

  it('LDAPS and StartTLS work with the test CA and fail closed without it', async () => {
    const ldaps = await login('carol', 'carol-ldap-password', 'corp-ldaps');
    expect(ldaps.status).toBe(200);
    const starttls = await login('erin', 'erin-ldap-password', 'corp-starttls');
    expect(starttls.status).toBe(200);
    expect(slapd.output()).toMatch(/TLS established/);
    expect(slapd.output()).toContain('EXT oid=1.3.6.1.4.1.1466.20037');

    for (const id of ['ldaps-no-ca', 'starttls-no-ca']) {
      const before = await binds(dnOf('carol'));
      const res = await login('carol', 'carol-ldap-password', id);
      expect(res.status, id).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
      expect(await binds(dnOf('carol'))).toBe(before);
    }
  });

  it('bindDnTemplate: binds at the DN with the username escaped, reads as the user', async () => {
    const identity = await ldapSource('template').authenticate('bob', 'bob-ldap-password');
    expect(identity).toMatchObject({ source: 'template', username: 'bob', groups: ['developers'], role: 'normal' });
    expect(await ldapSource('template').authenticate('bob', 'wrong-password')).toBeNull();
    // The comma is escaped, so this is one (non-existent) RDN value, not a different entry.
    expect(await ldapSource('template').authenticate('bob,ou=people', 'bob-ldap-password')).toBeNull();
    expect(await ldapSource('template').authenticate('nobody', 'bob-ldap-password')).toBeNull();
  });

  it('group search by name: (memberUid={username})', async () => {
    expect(await ldapSource('posix').lookup('bob')).toMatchObject({ username: 'bob', groups: ['ops'], role: undefined });
    expect(await ldapSource('posix').lookup('alice')).toMatchObject({ groups: [] });
    expect(await ldapSource('posix').lookup('dave')).toBeNull();
  });
});
