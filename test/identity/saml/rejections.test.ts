/**
 * Every acceptance rule of the ACS, each shown to be the cause of its rejection: the response
 * is built once, the tampered copy is refused with a message naming the rule, and the same
 * response without the tampering is then accepted (a refusal does not burn its assertion ID).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { encode, makeKeyPair, postToAcs, SamlBrowser, TestIdp, type KeyPair, type ResponseOptions } from '../../helpers/saml-idp.js';

describe('SAML ACS: acceptance rules', () => {
  let gw: TestGateway;
  let idp: TestIdp;
  let attacker: KeyPair;
  let acs: string;
  let audience: string;

  beforeAll(async () => {
    idp = new TestIdp();
    attacker = makeKeyPair('attacker');
    gw = await startTestGateway({ reachableIssuer: true, config: { saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() }] } });
    acs = `${gw.url}/saml/okta/acs`;
    audience = `${gw.url}/saml/okta/metadata`;
  });
  afterAll(() => gw?.stop());

  /** A sign-in started at the gateway, and the options of a response that answers it correctly. */
  async function signIn(overrides: Partial<ResponseOptions> = {}) {
    const browser = new SamlBrowser();
    const request = await browser.startSignIn(`${gw.url}/saml/okta/login`, idp);
    const options: ResponseOptions = { inResponseTo: request.id, acsUrl: request.acsUrl, audience, nameId: 'rita@example.org', now: gw.clock.now, ...overrides };
    return { browser, request, options, xml: idp.responseXml(options), post: (response: string) => postToAcs(acs, response, request.relayState) };
  }

  function rejected(page: Page, reason: RegExp): void {
    expect(page.status, page.text.slice(0, 300)).toBe(403);
    expect(page.location).toBeUndefined();
    const message = /id="sign-in-error">([^<]*)/.exec(page.text)?.[1] ?? '';
    expect(message.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&')).toMatch(reason);
  }

  function accepted(page: Page): void {
    expect(page.status, /id="sign-in-error">([^<]*)/.exec(page.text)?.[1]).toBe(303);
    expect(page.location).toMatch(/\/saml\/okta\/complete\?code=/);
  }

  it('an unsigned response is refused', async () => {
    const { xml, post } = await signIn();
    rejected(await post(encode(xml)), /neither the response nor its assertion is signed/);
    accepted(await post(encode(idp.sign(xml))));
  });

  it('a signature by another key is refused, whether the message carries that key\'s certificate or none', async () => {
    const { xml, post } = await signIn();
    // The attacker's certificate in KeyInfo: samlify must not take it over the metadata's.
    rejected(await post(encode(idp.sign(xml, 'assertion', attacker))), /signature does not verify against the IdP's certificate/);
    rejected(await post(encode(idp.sign(xml, 'both', attacker))), /signature does not verify/);
    const noKeyInfo = idp.sign(xml, 'assertion', attacker).replace(/<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/, '');
    rejected(await post(encode(noKeyInfo)), /signature does not verify/);
    accepted(await post(encode(idp.sign(xml))));
  });

  it('a NameID changed after signing is refused', async () => {
    const { xml, post } = await signIn();
    const signed = idp.sign(xml);
    rejected(await post(encode(signed.replace('>rita@example.org<', '>admin@example.org<'))), /signature does not verify/);
    accepted(await post(encode(signed)));
  });

  it('signature wrapping: a second, unsigned assertion is refused', async () => {
    const { xml, post } = await signIn();
    const signed = idp.sign(xml);
    const signedAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signed)![0];
    const forged = signedAssertion
      .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
      .replace(/ID="[^"]+"/, 'ID="_forged"')
      .replace('>rita@example.org<', '>admin@example.org<');
    // Before the signed one (where a naive reader looks first), and hidden in Extensions.
    rejected(await post(encode(signed.replace(signedAssertion, forged + signedAssertion))), /exactly one assertion/);
    const inExtensions = signed.replace('<samlp:Status>', `<samlp:Extensions>${forged}</samlp:Extensions><samlp:Status>`);
    rejected(await post(encode(inExtensions)), /exactly one assertion/);
    accepted(await post(encode(signed)));
  });

  it('a NameID split by a comment is read whole: the signature holds and the user is admin@evil.example, not admin', async () => {
    const { xml, post } = await signIn({ nameId: 'admin@evil.example' });
    const injected = idp.sign(xml).replace('>admin@evil.example<', '>admin<!---->@evil.example<');
    const page = await post(encode(injected));
    accepted(page);
    const user = await gw.services.users.get('admin@evil.example');
    expect(user.source).toBe('okta');
    expect((await gw.services.users.get('admin')).source).toBe('local');
  });

  it('an assertion for another audience is refused', async () => {
    const { xml, post } = await signIn();
    rejected(await post(encode(idp.sign(xml.replace(`<saml:Audience>${audience}<`, '<saml:Audience>https://other-sp.example/metadata<')))), /Audience is not this gateway's entity ID/);
    accepted(await post(encode(idp.sign(xml))));
  });

  it('a response for another Destination, or an assertion for another Recipient, is refused', async () => {
    const { xml, post } = await signIn();
    rejected(await post(encode(idp.sign(xml.replace(`Destination="${acs}"`, 'Destination="https://other-sp.example/acs"')))), /Destination is not this gateway's ACS URL/);
    rejected(await post(encode(idp.sign(xml.replace(`Recipient="${acs}"`, 'Recipient="https://other-sp.example/acs"')))), /Recipient is not this gateway's ACS URL/);
    accepted(await post(encode(idp.sign(xml))));
  });

  it('an assertion from another issuer is refused', async () => {
    const { xml, post } = await signIn();
    const other = xml.replaceAll(`<saml:Issuer>${idp.entityId}</saml:Issuer>`, '<saml:Issuer>https://other-idp.example</saml:Issuer>');
    rejected(await post(encode(idp.sign(other))), /Issuer is not the IdP in the metadata/);
    accepted(await post(encode(idp.sign(xml))));
  });

  it('an expired or not yet valid assertion is refused; the clock skew (180s) is tolerated', async () => {
    const now = gw.clock.now;
    const expired = await signIn({ notBefore: now - 10 * 60_000, notOnOrAfter: now - 4 * 60_000 });
    rejected(await expired.post(encode(idp.sign(expired.xml))), /expired|validity period/);
    const early = await signIn({ notBefore: now + 4 * 60_000, notOnOrAfter: now + 10 * 60_000 });
    rejected(await early.post(encode(idp.sign(early.xml))), /not valid yet|validity period/);
    const withinSkew = await signIn({ notBefore: now - 10 * 60_000, notOnOrAfter: now - 60_000 });
    accepted(await withinSkew.post(encode(idp.sign(withinSkew.xml))));
  });

  it('a replayed assertion is refused', async () => {
    const { xml, post } = await signIn();
    const signed = encode(idp.sign(xml));
    accepted(await post(signed));
    rejected(await post(signed), /already been used \(replay\)/);
  });

  it('a response to a request this gateway did not send is refused', async () => {
    const forged = await signIn({ inResponseTo: '_never-sent-by-tessera' });
    rejected(await forged.post(encode(idp.sign(forged.xml))), /InResponseTo does not match/);
    // The same sign-in answered with its own request id is accepted.
    const xml = forged.xml.replaceAll('_never-sent-by-tessera', forged.request.id);
    accepted(await forged.post(encode(idp.sign(xml))));
    // A RelayState the gateway never issued.
    const { xml: other } = await signIn();
    rejected(await postToAcs(acs, encode(idp.sign(other)), 'x'.repeat(43)), /unknown or has expired/);
  });

  it('XML with a DOCTYPE is refused before parsing', async () => {
    const { xml, post } = await signIn();
    const signed = idp.sign(xml);
    rejected(await post(encode(`<!DOCTYPE samlp:Response [<!ENTITY who "rita@example.org">]>${signed}`)), /DOCTYPE or entity declaration/);
    accepted(await post(encode(signed)));
  });

  it('a response that is not valid against the SAML schema is refused', async () => {
    const { xml, post } = await signIn();
    const signed = idp.sign(xml);
    // The Response element (not covered by the assertion's signature) with an attribute SAML does not define.
    rejected(await post(encode(signed.replace('<samlp:Response ', '<samlp:Response Tessera="unexpected" '))), /XML schema check failed/);
    accepted(await post(encode(signed)));
  });

  it('SHA-1 signatures are refused', async () => {
    const { xml, post } = await signIn();
    rejected(await post(encode(idp.sign(xml, 'assertion', idp.keys, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'))), /SHA-1/);
    accepted(await post(encode(idp.sign(xml))));
  });

  it('a response signed only at the Response level is accepted too', async () => {
    const { xml, post } = await signIn();
    accepted(await post(encode(idp.sign(xml, 'response'))));
  });

  it('return-to accepts only a path on this site', async () => {
    for (const target of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '/%0d%0a//evil.example'.replace('%0d%0a', '\r\n')]) {
      const page = await new SamlBrowser().get(`${gw.url}/saml/okta/login?return=${encodeURIComponent(target)}`);
      expect(page.status, target).toBe(400);
      expect(page.location).toBeUndefined();
      expect(page.text).toContain('return must be a path on this site');
    }
    const ok = await new SamlBrowser().get(`${gw.url}/saml/okta/login?return=${encodeURIComponent('/manage_tokens?tab=all')}`);
    expect(ok.status).toBe(303);
    expect(ok.location).toMatch(new RegExp(`^${idp.ssoUrl}\\?SAMLRequest=`));
  });
});
