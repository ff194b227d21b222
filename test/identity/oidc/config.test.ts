/**
 * The `openidConnect:` config and the claim rules of an upstream OpenID Provider (claims.ts),
 * checked without a provider: every problem reported with its key; admission rules fail closed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { identityFromClaims } from '../../../src/identity/oidc/claims.js';
import { roleFor, sameGroup } from '../../../src/identity/role-mapping.js';

const minimal = { id: 'keycloak', displayName: 'Keycloak', issuer: 'https://sso.example.org/realms/staff', clientId: 'tessera' };

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const source = (extra: Record<string, unknown> = {}) => parseConfig({ openidConnect: [{ ...minimal, ...extra }] }).openidConnect[0]!;

describe('openidConnect config', () => {
  it('fills in the documented defaults, and always asks for openid', () => {
    expect(parseConfig({}).openidConnect).toEqual([]);
    expect(source()).toMatchObject({
      scopes: ['openid', 'profile', 'email'],
      claims: { username: 'preferred_username', displayName: 'name', email: 'email', groups: 'groups' },
      userinfo: false,
      domainClaim: 'email',
      requiredClaims: {},
      revalidateInterval: 15 * 60_000,
      clockSkew: 60_000,
    });
    expect(source({ scopes: ['email', 'offline_access'] }).scopes).toEqual(['openid', 'email', 'offline_access']);
  });

  it('reports every problem, naming the key; ids are unique across every kind of source', () => {
    const found = problems({
      openidConnect: [
        { ...minimal, issuer: 'http://sso.example.org' },
        { ...minimal, id: 'keycloak2', domainClaim: 'tenant' },
        { ...minimal, id: 'Local', roleMapping: { admin: [] } },
      ],
    });
    expect(found).toEqual([
      'openidConnect.0.issuer: must be https:// (plain http only for a loopback address)',
      expect.stringMatching(/^openidConnect\.1\.domainClaim: /),
      expect.stringMatching(/^openidConnect\.2\.id: /),
      expect.stringMatching(/^openidConnect\.2\.roleMapping\.admin: /),
    ]);
    expect(problems({ openidConnect: [minimal, minimal] })).toEqual(['openidConnect.1.id: duplicate source id keycloak']);
    const others = {
      ldap: [{ id: 'corp', displayName: 'Corp', url: 'ldaps://127.0.0.1:636', bindDnTemplate: 'uid={username},dc=example,dc=org', revalidateInterval: 0 }],
      saml: [{ id: 'okta', displayName: 'Okta', idpMetadataUrl: 'https://example.okta.com/metadata' }],
    };
    expect(problems({ ...others, openidConnect: [{ ...minimal, id: 'corp' }, { ...minimal, id: 'okta' }] })).toEqual([
      "openidConnect.0.id: source id corp is also an LDAP source's",
      "openidConnect.1.id: source id okta is also a SAML source's",
    ]);
    expect(problems({ openidConnect: [{ ...minimal, issuer: 'http://127.0.0.1:8080/realms/dev' }] })).toEqual([]);
  });
});

describe('claims of an upstream OpenID Provider', () => {
  const claims = { sub: 's1', preferred_username: 'dana', name: 'Dana', email: 'dana@example.org', email_verified: true, groups: ['Admins', ' dev ', 'dev'] };

  it('maps username, display name, e-mail and groups by the configured claim names; groups to the role', () => {
    expect(identityFromClaims(source({ roleMapping: { admin: ['admins'] } }), claims)).toEqual({ source: 'keycloak', username: 'dana', displayName: 'Dana', email: 'dana@example.org', groups: ['Admins', 'dev'], role: 'admin' });
    const entra = source({ claims: { username: 'upn', groups: 'roles' } });
    expect(identityFromClaims(entra, { sub: 's', upn: 'dana@contoso.com', roles: 'Tessera.Admin' })).toMatchObject({ username: 'dana@contoso.com', displayName: 'dana@contoso.com', email: '', groups: ['Tessera.Admin'], role: undefined });
  });

  it('refuses a missing or invalid username', () => {
    expect(() => identityFromClaims(source(), { sub: 's' })).toThrow('sent no preferred_username claim');
    expect(() => identityFromClaims(source(), { sub: 's', preferred_username: 'a b/c' })).toThrow('not a valid Tessera username');
  });

  it('allowed domains: a verified e-mail domain, or only Google hosted domain (hd) when so configured', () => {
    const byEmail = source({ allowedDomains: ['Example.org'] });
    expect(identityFromClaims(byEmail, claims).username).toBe('dana');
    expect(() => identityFromClaims(byEmail, { ...claims, email_verified: false })).toThrow('no verified e-mail address');
    expect(() => identityFromClaims(byEmail, { ...claims, email: 'dana@evil.test' })).toThrow('accounts of evil.test may not sign in here');
    const byHd = source({ allowedDomains: ['example.org'], domainClaim: 'hd' });
    // A consumer Google account with a verified address of the domain, but no hd: refused.
    expect(() => identityFromClaims(byHd, claims)).toThrow('no hosted domain (hd)');
    expect(identityFromClaims(byHd, { ...claims, hd: 'example.org' }).username).toBe('dana');
    expect(() => identityFromClaims(byHd, { ...claims, hd: 'other.org' })).toThrow('accounts of other.org');
  });

  it('required claims must be present with exactly the value', () => {
    const tenant = source({ requiredClaims: { tid: 'tenant-1', email_verified: true } });
    expect(identityFromClaims(tenant, { ...claims, tid: 'tenant-1' }).username).toBe('dana');
    expect(() => identityFromClaims(tenant, { ...claims, tid: 'tenant-2' })).toThrow('the tid claim is missing or not the required value');
    expect(() => identityFromClaims(tenant, claims)).toThrow('the tid claim');
  });
});

describe('the one group-matching rule', () => {
  it('is case-insensitive and ignores surrounding spaces, for every source', () => {
    expect(sameGroup('Tessera-Admins', ' tessera-admins')).toBe(true);
    expect(sameGroup('admins', 'admin')).toBe(false);
    expect(roleFor(['DEV'], { admin: ['dev'] })).toBe('admin');
    expect(roleFor(['ops'], { admin: ['dev'] })).toBe('normal');
    expect(roleFor(['dev'], undefined)).toBeUndefined();
  });
});
