/**
 * Per-address limits on the SAML endpoints anyone can call, counted in the store so that two
 * gateways sharing it share the count: sign-in starts (each stores a pending sign-in) and
 * responses (each occupies a worker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { encode, samlWorkersReady, TestIdp } from '../../helpers/saml-idp.js';

describe('SAML per-address rate limits', () => {
  let gw: TestGateway;
  let second: TestGateway;
  let idp: TestIdp;

  beforeAll(async () => {
    idp = new TestIdp();
    const config = { saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() }], samlLimits: { perIpPerMinute: 3 } };
    gw = await startTestGateway({ config });
    // A second instance of the same deployment: same store keys.
    second = await startTestGateway({ config, prefix: gw.prefix });
    await samlWorkersReady();
    // One time for both instances, and the real one: Redis expires the counters on its own clock.
    gw.clock.now = second.clock.now = Date.now();
  }, 180_000);
  afterAll(async () => {
    await second?.stop();
    await gw?.stop();
  });

  interface Answer {
    status: number;
    retryAfter: string | null;
    text: string;
  }

  async function call(url: string, body?: string): Promise<Answer> {
    const res = await fetch(url, { method: body ? 'POST' : 'GET', redirect: 'manual', body, headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {} });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
  }

  const login = (g: TestGateway) => call(`${g.url}/saml/okta/login`);
  const response = new URLSearchParams({ SAMLResponse: encode('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'), RelayState: 'r'.repeat(43) }).toString();
  const acs = (g: TestGateway) => call(`${g.url}/saml/okta/acs`, response);

  function limited(page: Answer): void {
    expect(page.status, page.text.slice(0, 300)).toBe(429);
    expect(Number(page.retryAfter)).toBeGreaterThan(0);
    expect(page.text).toContain('too many SAML sign-ins from this address');
  }

  it('sign-in starts: three a minute from one address across both gateways, then 429 until the window ends', async () => {
    expect((await login(gw)).status).toBe(303);
    expect((await login(second)).status).toBe(303);
    expect((await login(gw)).status).toBe(303);
    limited(await login(second));
    limited(await login(gw));
    gw.clock.advance(61_000);
    second.clock.advance(61_000);
    expect((await login(second)).status).toBe(303);
  });

  it('responses: three a minute from one address, counted apart from sign-in starts', async () => {
    for (let i = 0; i < 3; i++) expect((await acs(i % 2 ? second : gw)).status).toBe(403);
    limited(await acs(gw));
    limited(await acs(second));
  });
});
