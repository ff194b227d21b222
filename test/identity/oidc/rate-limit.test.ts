/**
 * One per-address limit for redirect sign-in of every source kind (`auth.redirectSignIns`),
 * counted per source and step in the store: the generic `/sso/<id>/...` routes of upstream
 * OpenID Connect sources are held to it like SAML's, and `samlLimits.perIpPerMinute`, when set,
 * still governs SAML sources alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { TestIdp } from '../../helpers/saml-idp.js';

// Nothing listens on port 9: discovery fails, which the limit does not wait for.
const oidc = (id: string) => ({ id, displayName: id, issuer: 'http://127.0.0.1:9', clientId: 'tessera', clientSecret: 'tessera-secret-0123456789abcdef' });

describe('per-address limit on redirect sign-ins, every source kind', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    const idp = new TestIdp();
    gw = await startTestGateway({
      config: {
        auth: { redirectSignIns: { perIpPerMinute: 2 } },
        openidConnect: [oidc('corp'), oidc('partners')],
        saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() }],
      },
    });
    // Redis expires the counters on its own clock.
    gw.clock.now = Date.now();
  }, 120_000);
  afterAll(() => gw?.stop());

  const get = async (path: string) => {
    const res = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
  };

  it('limits /sso/<id>/login and /callback per address and source; SAML shares the setting', async () => {
    for (let i = 0; i < 2; i++) expect((await get('/sso/corp/login')).status).not.toBe(429);
    const refused = await get('/sso/corp/login');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.text).toContain('too many OpenID Connect sign-ins from this address');
    // Callbacks are counted apart from starts, and each source on its own.
    for (let i = 0; i < 2; i++) expect((await get('/sso/corp/callback?state=x')).status).not.toBe(429);
    expect((await get('/sso/corp/callback?state=x')).status).toBe(429);
    expect((await get('/sso/partners/login')).status).not.toBe(429);
    // SAML without samlLimits.perIpPerMinute: the same limit.
    for (let i = 0; i < 2; i++) expect((await get('/saml/okta/login')).status).toBe(303);
    const saml = await get('/saml/okta/login');
    expect(saml.status).toBe(429);
    expect(saml.text).toContain('too many SAML sign-ins from this address');
    gw.clock.advance(61_000);
    expect((await get('/sso/corp/login')).status).not.toBe(429);
  });

  it('is configured once, with a default, and refuses nonsense', () => {
    expect(parseConfig({}).auth.redirectSignIns).toEqual({ perIpPerMinute: 60 });
    expect(parseConfig({}).samlLimits.perIpPerMinute).toBeUndefined();
    expect(() => parseConfig({ auth: { redirectSignIns: { perIpPerMinute: 0 } } })).toThrow(/perIpPerMinute/);
  });
});
