import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const problemsOf = (raw: unknown): string[] => {
  try {
    parseConfig(raw);
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
};

describe('workloadIdentity and leakReports configuration', () => {
  it('defaults: no issuers, 1h cap, 30s skew, 15m per rule', () => {
    const config = parseConfig({ workloadIdentity: { issuers: [{ issuer: 'https://ci.example', audience: 'tessera', rules: [{ claims: { sub: 'x' }, user: 'svc', scopes: ['read'] }] }] } });
    expect(config.workloadIdentity.maxLifetime).toBe(3_600_000);
    expect(config.workloadIdentity.clockSkew).toBe(30_000);
    expect(config.workloadIdentity.issuers[0]!.rules[0]!.lifetime).toBe(15 * 60_000);
    expect(parseConfig({}).workloadIdentity.issuers).toEqual([]);
    expect(parseConfig({}).leakReports.github.keys).toEqual([]);
  });

  it('reports every unsafe or contradictory setting at once, naming the key', () => {
    const problems = problemsOf({
      workloadIdentity: {
        maxLifetime: '30m',
        issuers: [
          {
            issuer: 'https://ci.example',
            audience: 'tessera',
            jwksUri: 'https://ci.example/jwks',
            jwksFile: '/etc/jwks.json',
            rules: [
              { claims: {}, user: 'svc', scopes: ['read'] },
              { claims: { sub: 'x' }, user: 'svc', scopes: [] },
              { claims: { sub: 'x' }, user: 'svc', scopes: ['read'], lifetime: '2h' },
            ],
          },
          { issuer: 'not a url', audience: 'tessera', rules: [] },
        ],
      },
      leakReports: { github: { keys: [{ id: 'k', key: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }] } },
    });
    const text = problems.join('\n');
    expect(text).toMatch(/workloadIdentity\.issuers\.0\.rules\.0\.claims: a rule needs at least one claim condition/);
    expect(text).toMatch(/workloadIdentity\.issuers\.0\.rules\.1\.scopes/);
    expect(text).toMatch(/workloadIdentity\.issuers\.0: give jwksUri or jwksFile, not both/);
    expect(text).toMatch(/workloadIdentity\.issuers\.1\.issuer/);
    expect(text).toMatch(/workloadIdentity\.issuers\.1\.rules/);
    expect(text).toMatch(/leakReports\.github\.keys\.0\.key: must be an ECDSA public key/);
  });

  it('a rule longer than maxLifetime is refused', () => {
    const problems = problemsOf({
      workloadIdentity: { maxLifetime: '30m', issuers: [{ issuer: 'https://ci.example', audience: 't', rules: [{ claims: { sub: 'x' }, user: 'svc', scopes: ['read'], lifetime: '2h' }] }] },
    });
    expect(problems.join('\n')).toMatch(/workloadIdentity\.issuers\.0\.rules\.0\.lifetime: longer than workloadIdentity\.maxLifetime/);
  });
});
