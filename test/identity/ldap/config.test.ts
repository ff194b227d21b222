import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

const minimal = {
  id: 'corp',
  displayName: 'Corporate directory',
  url: 'ldaps://ldap.example.org',
  bindDn: 'cn=tessera,ou=services,dc=example,dc=org',
  bindPassword: '${LDAP_BIND_PASSWORD}',
  userSearch: { baseDn: 'ou=people,dc=example,dc=org' },
};

function problems(ldap: unknown[]): string[] {
  try {
    parseConfig({ ldap }, { LDAP_BIND_PASSWORD: 'secret' });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('ldap config', () => {
  it('defaults to no sources', () => {
    expect(parseConfig({}).ldap).toEqual([]);
  });

  it('fills in the documented defaults', () => {
    const [source] = parseConfig({ ldap: [minimal] }, { LDAP_BIND_PASSWORD: 'secret' }).ldap;
    expect(source).toMatchObject({
      bindPassword: 'secret',
      startTls: false,
      tls: { insecureSkipVerify: false },
      userSearch: { scope: 'sub', filter: '(objectClass=person)', usernameAttribute: 'uid' },
      attributes: { displayName: 'cn', email: 'mail' },
      connectTimeout: 2000,
      timeout: 5000,
      revalidateInterval: 15 * 60_000,
    });
    const [ad] = parseConfig({ ldap: [{ ...minimal, groups: {} }] }, { LDAP_BIND_PASSWORD: 'x' }).ldap;
    expect(ad!.groups).toEqual({ memberOfAttribute: 'memberOf' });
  });

  it('reports every problem of every source at once', () => {
    const found = problems([
      { ...minimal, url: 'ldap://ldap.example.org', bindPassword: undefined, bindDnTemplate: 'uid={username},dc=x', requireGroup: 'devs' },
      { ...minimal, id: 'local', url: 'ldaps://x/dc=example', startTls: true, userSearch: { baseDn: 'dc=x', filter: 'uid=*)(' } },
      { ...minimal, tls: { ca: 'not pem', caFile: '/ca.pem' } },
      minimal,
    ]);
    const text = found.join('\n');
    expect(text).toMatch(/ldap\.0: give exactly one of userSearch, bindDnTemplate/);
    expect(text).toMatch(/ldap\.0\.bindPassword: bindDn and bindPassword go together/);
    expect(text).toMatch(/ldap\.0\.url: ldap:\/\/ without TLS/);
    expect(text).toMatch(/ldap\.0\.groups: roleMapping and requireGroup need groups/);
    expect(text).toMatch(/ldap\.1\.id: local is the built-in source/);
    expect(text).toMatch(/ldap\.1\.url: ldap:\/\/host\[:port\]/);
    expect(text).toMatch(/ldap\.1\.userSearch\.filter: not an LDAP filter/);
    expect(text).toMatch(/ldap\.2\.tls\.ca: must be PEM/);
    expect(text).toMatch(/ldap\.3\.id: duplicate source id corp/);
  });

  it('checks filters, templates and the revalidation account', () => {
    const text = problems([
      { ...minimal, userSearch: undefined, bindDnTemplate: 'ou=people,dc=x' },
      { ...minimal, id: 'b', groups: { search: { baseDn: 'ou=groups,dc=x', filter: '(member=x)' } } },
      { ...minimal, id: 'c', bindDn: undefined, bindPassword: undefined, userSearch: undefined, bindDnTemplate: 'uid={username},dc=x' },
      { ...minimal, id: 'd', disabledFilter: 'locked' },
    ]).join('\n');
    expect(text).toMatch(/ldap\.0\.bindDnTemplate: must contain \{username\} once/);
    expect(text).toMatch(/ldap\.1\.groups.*must contain \{dn\} or \{username\}/);
    expect(text).toMatch(/ldap\.2\.revalidateInterval: revalidation reads with the service account/);
    expect(text).toMatch(/ldap\.3\.disabledFilter: not an LDAP filter/);
    // Turning revalidation off makes the anonymous template source valid.
    expect(problems([{ ...minimal, bindDn: undefined, bindPassword: undefined, userSearch: undefined, bindDnTemplate: 'uid={username},dc=x', revalidateInterval: 0 }])).toEqual([]);
  });
});
