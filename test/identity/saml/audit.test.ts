/**
 * SAML sign-ins in the audit trail: a refused response is `saml.rejected` with a reason class,
 * an accepted one `saml.signed_in` for the user, and neither event carries the response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { encode, postToAcs, SamlBrowser, samlWorkersReady, TestIdp } from '../../helpers/saml-idp.js';

describe('SAML audit events', () => {
  let gw: TestGateway;
  let idp: TestIdp;

  beforeAll(async () => {
    idp = new TestIdp();
    gw = await startTestGateway({ reachableIssuer: true, config: { saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() }] } });
    // The response workers compile their schema validator first: not inside the test's timeout.
    await samlWorkersReady();
  }, 180_000);
  afterAll(() => gw?.stop());

  it('records the rejection with its reason class and the sign-in with the user, never the response', async () => {
    const browser = new SamlBrowser();
    const request = await browser.startSignIn(`${gw.url}/saml/okta/login`, idp);
    const xml = idp.responseXml({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: `${gw.url}/saml/okta/metadata`, nameId: 'rita@example.org', now: gw.clock.now });
    const unsigned = encode(xml);
    expect((await postToAcs(`${gw.url}/saml/okta/acs`, unsigned, request.relayState)).status).toBe(403);
    // The refused response used up its sign-in: the signed one comes from a new one.
    const again = await browser.startSignIn(`${gw.url}/saml/okta/login`, idp);
    const signedXml = idp.responseXml({ inResponseTo: again.id, acsUrl: again.acsUrl, audience: `${gw.url}/saml/okta/metadata`, nameId: 'rita@example.org', now: gw.clock.now });
    const signed = encode(idp.sign(signedXml));
    expect((await postToAcs(`${gw.url}/saml/okta/acs`, signed, again.relayState)).status).toBe(303);

    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    const events = (await gw.api('GET', '/api/v1/audit?type=saml.', { token: admin })).body.events;
    expect(events.map((e: any) => e.type)).toEqual(['saml.signed_in', 'saml.rejected']);
    expect(events[1]).toMatchObject({ outcome: 'failed', reason: 'signature', source: 'okta', ip: '127.0.0.1' });
    expect(events[0]).toMatchObject({ outcome: 'succeeded', source: 'okta', actor: { credential: 'saml', username: 'rita@example.org' }, target: { username: 'rita@example.org' } });
    const everything = JSON.stringify(events) + JSON.stringify(gw.auditLines);
    for (const secret of [unsigned, signed, xml.slice(0, 60), 'SAMLResponse']) expect(everything).not.toContain(secret);
  });
});
