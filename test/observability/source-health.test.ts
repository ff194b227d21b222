/**
 * Identity source health as an operator sees it: `tessera_identity_source_up` per LDAP and SAML
 * source, and a warning naming the source when a directory or an IdP's metadata cannot be
 * reached. The LDAP source points at a port nothing listens on; one SAML source has its IdP
 * metadata inline, the other must fetch it from a port nothing listens on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { freePort } from '../helpers/redis-server.js';
import { TestIdp } from '../helpers/saml-idp.js';
import { sample } from './prometheus.js';

const METRICS_TOKEN = 'metrics-token-for-health-0123456789';

describe('identity source health', () => {
  let gw: TestGateway;
  let log: CapturedLog;

  beforeAll(async () => {
    log = captureLog('info');
    const idp = new TestIdp();
    gw = await startTestGateway({
      store: 'memory',
      logger: log.logger,
      config: {
        metrics: { token: METRICS_TOKEN },
        ldap: [
          {
            id: 'corp',
            displayName: 'Corp directory',
            url: `ldap://127.0.0.1:${await freePort()}`,
            insecureNoTls: true,
            bindDn: 'cn=tessera,dc=example,dc=org',
            bindPassword: 'service-bind-password-for-health',
            userSearch: { baseDn: 'ou=people,dc=example,dc=org', filter: '(objectClass=inetOrgPerson)' },
            connectTimeout: '1s',
            timeout: '1s',
            revalidateInterval: 0,
          },
        ],
        saml: [
          { id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() },
          { id: 'broken', displayName: 'Broken IdP', idpMetadataUrl: `http://127.0.0.1:${await freePort()}/metadata` },
        ],
      },
    });
  });
  afterAll(async () => gw?.stop());

  const scrape = async () => (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();

  it('reports SAML metadata loaded or not, and logs the failure with the source', async () => {
    const text = await scrape();
    expect(sample(text, 'tessera_identity_source_up', { kind: 'saml', source: 'okta' })).toBe(1);
    expect(text).toMatch(/tessera_identity_source_up\{kind="saml",source="broken"\} 0/);
    expect(log.lines.some((l) => l.component === 'saml' && l.source === 'broken' && l.level === 'warn')).toBe(true);
  });

  it('reports an LDAP directory down once a request found it down, with a warning naming it', async () => {
    // Not contacted yet: no sample rather than a guess.
    expect(await scrape()).not.toContain('kind="ldap"');
    const res = await gw.api('POST', '/api/v1/login', { body: { username: 'alice', password: 'alice-password-123', source: 'corp' } });
    expect(res.status).toBe(503);
    const text = await scrape();
    expect(text).toMatch(/tessera_identity_source_up\{kind="ldap",source="corp"\} 0/);
    expect(sample(text, 'tessera_logins_total', { source: 'corp', outcome: 'unavailable' })).toBe(1);
    const warning = log.lines.find((l) => l.component === 'ldap' && l.level === 'warn');
    expect(warning).toMatchObject({ source: 'corp', msg: expect.stringContaining('directory unavailable') });
    expect(log.text()).not.toContain('alice-password-123');
    expect(log.text()).not.toContain('service-bind-password-for-health');
  });
});
