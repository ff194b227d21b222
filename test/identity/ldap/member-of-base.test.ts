/**
 * memberOf gives a group's DN; Tessera matches groups by name (the first RDN). A group named like
 * the admin group but created elsewhere in the directory must not make someone an admin when
 * `groups.memberOfBaseDn` says where the real groups live.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, startSlapd, type Slapd } from '../../helpers/slapd.js';

const PEOPLE = `ou=people,${BASE_DN}`;
const GROUPS = `ou=groups,${BASE_DN}`;

describe('LDAP memberOf groups limited to a base DN', () => {
  let slapd: Slapd;
  let gw: TestGateway;
  let directory: Client;

  const source = (id: string, groups: Record<string, unknown>) => ({
    id,
    displayName: id,
    url: slapd.url,
    insecureNoTls: true,
    bindDn: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    userSearch: { baseDn: PEOPLE, filter: '(objectClass=inetOrgPerson)' },
    groups,
    roleMapping: { admin: ['tessera-admins'] },
    revalidateInterval: 0,
  });

  beforeAll(async () => {
    slapd = await startSlapd();
    directory = await slapd.admin();
    // A rogue look-alike of the admin group, outside ou=groups, with bob and carol in it.
    await directory.add(`cn=tessera-admins,${PEOPLE}`, {
      objectClass: 'groupOfNames',
      cn: 'tessera-admins',
      member: [`uid=bob,${PEOPLE}`, `uid=carol,${PEOPLE}`],
    });
    gw = await startTestGateway({
      config: {
        ldap: [
          source('anywhere', { memberOfAttribute: 'memberOf' }),
          source('scoped', { memberOfAttribute: 'memberOf', memberOfBaseDn: GROUPS }),
        ],
      },
    });
  });
  afterAll(async () => {
    await directory?.unbind().catch(() => {});
    await gw?.stop();
    await slapd?.stop();
  });

  const me = async (username: string, from: string) => {
    const login = await gw.api('POST', '/api/v1/login', { body: { username, password: `${username}-ldap-password`, source: from } });
    expect(login.status).toBe(200);
    return (await gw.api('GET', '/api/v1/me', { token: login.body.access_token })).body;
  };

  it('without memberOfBaseDn the look-alike counts (the reason the option exists)', async () => {
    expect(await me('carol', 'anywhere')).toMatchObject({ role: 'admin', groups: expect.arrayContaining(['tessera-admins']) });
  });

  it('with memberOfBaseDn only groups under it count', async () => {
    const bob = await me('bob', 'scoped');
    expect(bob.role).toBe('normal');
    expect(bob.groups).not.toContain('tessera-admins');
    expect(bob.groups).toContain('developers');
    // The real admin group, under ou=groups, still makes alice an admin.
    expect(await me('alice', 'scoped')).toMatchObject({ role: 'admin' });
  });
});
