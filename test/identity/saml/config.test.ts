import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

const minimal = { id: 'okta', displayName: 'Okta', idpMetadataUrl: 'https://example.okta.com/app/exk1/sso/saml/metadata' };

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('saml config', () => {
  it('defaults to no sources and fills in the documented defaults', () => {
    expect(parseConfig({}).saml).toEqual([]);
    const [source] = parseConfig({ saml: [minimal] }).saml;
    expect(source).toEqual({
      ...minimal,
      idpMetadataTimeout: 10_000,
      idpMetadataMaxAge: 24 * 3_600_000,
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      attributes: { email: 'email', displayName: 'displayName', groups: 'groups' },
      clockSkew: 180_000,
      allowIdpInitiated: false,
    });
    expect(parseConfig({ saml: [{ ...minimal, nameIdFormat: 'persistent' }] }).saml[0]!.nameIdFormat).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
  });

  it('reports every problem, naming the key', () => {
    const found = problems({
      saml: [
        { id: 'okta', displayName: 'Okta', idpMetadataUrl: 'http://example.okta.com/metadata', idpMetadataFile: '/etc/okta.xml' },
        { ...minimal, id: 'okta2', signingKey: '-----BEGIN PRIVATE KEY-----\n...' },
        { ...minimal, id: 'okta3', nameIdFormat: 'transient' },
        { ...minimal, id: 'local', clockSkew: 'soon' },
      ],
    }).join('\n');
    expect(found).toContain('saml.0.idpMetadataUrl: must be https://');
    expect(found).toContain('give exactly one of idpMetadataUrl, idpMetadataFile, idpMetadata');
    expect(found).toContain('saml.1.signingCert: the signing key and certificate go together');
    expect(found).toContain('saml.2.attributes.username: a transient NameID changes at every sign-in');
    expect(found).toContain('saml.3.id: local is the built-in source');
    expect(found).toContain('saml.3.clockSkew: not a duration');
  });

  it('refuses an id an LDAP source has: users name their source by id', () => {
    const ldap = [{ id: 'corp', displayName: 'Corp', url: 'ldaps://ldap.example.org', userSearch: { baseDn: 'dc=example' } }];
    expect(problems({ ldap, saml: [{ ...minimal, id: 'corp' }] })).toEqual(["saml.0.id: source id corp is also an LDAP source's"]);
  });

  it('allows plain http metadata URLs only on loopback', () => {
    expect(problems({ saml: [{ ...minimal, idpMetadataUrl: 'http://127.0.0.1:8081/metadata' }] })).toEqual([]);
    expect(problems({ saml: [minimal, minimal] }).join()).toContain('duplicate source id okta');
  });
});

describe('samlLimits config', () => {
  it('has safe defaults, and refuses a budget or a pool that would refuse every sign-in', () => {
    expect(parseConfig({}).samlLimits).toEqual({ maxResponseBytes: 262_144, maxElements: 3000, maxDepth: 24, workers: 2, responseBudget: 5000, queue: 16 });
    expect(parseConfig({ samlLimits: { responseBudget: '2s', workers: 4 } }).samlLimits).toMatchObject({ responseBudget: 2000, workers: 4, queue: 16 });
    const found = problems({ samlLimits: { responseBudget: '0s', workers: 0, maxDepth: 3, perIpPerMinute: 0, bogus: 1 } }).join('\n');
    for (const key of ['responseBudget', 'workers', 'maxDepth', 'perIpPerMinute', 'bogus']) expect(found).toContain(key);
  });
});
