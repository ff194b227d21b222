/**
 * NIS users: RFC 2307 accounts (`posixAccount`) and groups (`posixGroup`, members named by
 * `memberUid`, the NIS `group` map), as NIS-to-LDAP gateways and migrated NIS domains serve
 * them, against the real slapd (which loads nis.schema). The group search finds groups by the
 * username; the role and `requireGroup` follow them at sign-in and at re-validation.
 */
import type { Client } from 'ldapts';
import { Change, Attribute } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LdapSource } from '../../../src/identity/ldap/ldap-source.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, startSlapd, type Slapd } from '../../helpers/slapd.js';

const NIS_PEOPLE = `ou=nis-people,${BASE_DN}`;
const NIS_GROUPS = `ou=nis-groups,${BASE_DN}`;

describe('LDAP: NIS users (RFC 2307 posixAccount / posixGroup with memberUid)', () => {
  let slapd: Slapd;
  let gw: TestGateway;
  let directory: Client;

  const account = (uid: string, uidNumber: number) => ({
    objectClass: ['account', 'posixAccount'],
    uid,
    cn: `${uid} (NIS)`,
    uidNumber: String(uidNumber),
    gidNumber: '100',
    homeDirectory: `/home/${uid}`,
    loginShell: '/bin/sh',
    userPassword: `${uid}-nis-password`,
  });
  const group = (cn: string, gidNumber: number, members: string[]) => ({ objectClass: 'posixGroup', cn, gidNumber: String(gidNumber), memberUid: members });

  beforeAll(async () => {
    slapd = await startSlapd();
    directory = await slapd.admin();
    await directory.add(NIS_PEOPLE, { objectClass: 'organizationalUnit', ou: 'nis-people' });
    await directory.add(NIS_GROUPS, { objectClass: 'organizationalUnit', ou: 'nis-groups' });
    await directory.add(`uid=nadia,${NIS_PEOPLE}`, account('nadia', 2001));
    await directory.add(`uid=otto,${NIS_PEOPLE}`, account('otto', 2002));
    await directory.add(`cn=staff,${NIS_GROUPS}`, group('staff', 100, ['nadia', 'otto']));
    await directory.add(`cn=Wheel,${NIS_GROUPS}`, group('Wheel', 10, ['nadia']));
    gw = await startTestGateway({
      config: {
        ldap: [
          {
            id: 'nis',
            displayName: 'NIS',
            url: slapd.url,
            insecureNoTls: true,
            bindDn: SERVICE_DN,
            bindPassword: SERVICE_PASSWORD,
            userSearch: { baseDn: NIS_PEOPLE, filter: '(objectClass=posixAccount)', usernameAttribute: 'uid' },
            groups: { search: { baseDn: NIS_GROUPS, filter: '(&(objectClass=posixGroup)(memberUid={username}))' } },
            roleMapping: { admin: ['wheel'] },
            requireGroup: 'staff',
            revalidateInterval: 0,
          },
        ],
      },
    });
  }, 120_000);
  afterAll(async () => {
    await directory?.unbind().catch(() => {});
    await gw?.stop();
    await slapd?.stop();
  });

  const login = (username: string) => gw.api('POST', '/api/v1/login', { body: { username, password: `${username}-nis-password`, source: 'nis' } });

  it('signs NIS users in with their groups from memberUid; wheel (any case) is admin', async () => {
    expect((await login('nadia')).status).toBe(200);
    expect(await gw.services.users.get('nadia')).toMatchObject({ source: 'nis', displayName: 'nadia (NIS)', role: 'admin', groups: expect.arrayContaining(['staff', 'Wheel']) });
    expect((await login('otto')).status).toBe(200);
    expect(await gw.services.users.get('otto')).toMatchObject({ role: 'normal', groups: ['staff'] });
  });

  it('a user taken out of the required group (memberUid removed) is disabled at re-validation', async () => {
    const token = await gw.personalToken('otto', 'otto-nis-password');
    expect((await gw.introspect(token)).body).toMatchObject({ active: true, username: 'otto' });
    await directory.modify(`cn=staff,${NIS_GROUPS}`, new Change({ operation: 'delete', modification: new Attribute({ type: 'memberUid', values: ['otto'] }) }));
    const source = gw.services.ldapSources.find((s) => s.id === 'nis') as LdapSource;
    expect((await source.revalidator.runOnce()).disabled).toEqual(['otto']);
    expect((await gw.introspect(token)).body).toEqual({ active: false });
    expect((await login('otto')).status).toBe(401);
  });
});
