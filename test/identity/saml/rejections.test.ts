/**
 * Every acceptance rule of the ACS, each shown to be the cause of its rejection: the response
 * is built once, the tampered copy is refused with a message naming the rule, and the same
 * response without the tampering is then accepted (a refusal does not burn its assertion ID).
 * Each post answers a sign-in of its own: a RelayState is used up by the first post naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { encode, type KeyPair, makeKeyPair, postToAcs, type ResponseOptions, SamlBrowser, samlWorkersReady, TestIdp } from '../../helpers/saml-idp.js';

describe('SAML ACS: acceptance rules', () => {
  let gw: TestGateway;
  let idp: TestIdp;
  let attacker: KeyPair;
  let acs: string;
  let audience: string;

  beforeAll(async () => {
    idp = new TestIdp();
    attacker = makeKeyPair('attacker');
    // Dozens of sign-ins from one address: above the per-address limit, tested on its own.
    gw = await startTestGateway({ reachableIssuer: true, config: { saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() }], samlLimits: { perIpPerMinute: 10_000 } } });
    acs = `${gw.url}/saml/okta/acs`;
    audience = `${gw.url}/saml/okta/metadata`;
    // The response workers compile their schema validator first: not inside a test's timeout.
    await samlWorkersReady();
  }, 180_000);
  afterAll(() => gw?.stop());

  /** Starts a sign-in at the gateway; returns the request the IdP receives. */
  const start = () => new SamlBrowser().startSignIn(`${gw.url}/saml/okta/login`, idp);

  /**
   * A response that answers a sign-in correctly, and `send`: each call starts a fresh sign-in (a
   * RelayState is used up by the first response that names it, accepted or not) and posts what
   * `build` makes of the same XML, retargeted to that sign-in. The assertion ID stays the same,
   * so an acceptance after refusals shows that they did not burn it.
   */
  async function signIn(overrides: Partial<ResponseOptions> = {}) {
    const request = await start();
    const options: ResponseOptions = { inResponseTo: request.id, acsUrl: request.acsUrl, audience, nameId: 'rita@example.org', now: gw.clock.now, ...overrides };
    const xml = idp.responseXml(options);
    const send = async (build: (xml: string, request: { id: string }) => string) => {
      const next = await start();
      return postToAcs(acs, build(xml.replaceAll(request.id, next.id), next), next.relayState);
    };
    return { request, options, xml, send };
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

  const signed = (x: string) => encode(idp.sign(x));

  it('an unsigned response is refused', async () => {
    const { send } = await signIn();
    rejected(await send(encode), /neither the response nor its assertion is signed/);
    accepted(await send(signed));
  });

  it('a signature by another key is refused, whether the message carries that key\'s certificate or none', async () => {
    const { send } = await signIn();
    // The attacker's certificate in KeyInfo: samlify must not take it over the metadata's.
    rejected(await send((x) => encode(idp.sign(x, 'assertion', attacker))), /signature does not verify against the IdP's certificate/);
    rejected(await send((x) => encode(idp.sign(x, 'both', attacker))), /signature does not verify/);
    rejected(await send((x) => encode(idp.sign(x, 'assertion', attacker).replace(/<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/, ''))), /signature does not verify/);
    accepted(await send(signed));
  });

  it('a NameID changed after signing is refused', async () => {
    const { send } = await signIn();
    rejected(await send((x) => encode(idp.sign(x).replace('>rita@example.org<', '>admin@example.org<'))), /signature does not verify/);
    accepted(await send(signed));
  });

  it('a Response whose own signature is broken is refused, even though its assertion signature holds', async () => {
    const { send } = await signIn();
    // The Response's IssueInstant (covered by the Response signature only) moved by a second.
    const altered = (x: string) => idp.sign(x, 'both').replace(/(<samlp:Response [^>]*IssueInstant="[^"]*)\.(\d{3})Z"/, (_, head: string, ms: string) => `${head}.${String((Number(ms) + 1) % 1000).padStart(3, '0')}Z"`);
    const tampered = await send((x) => {
      expect(altered(x)).not.toBe(idp.sign(x, 'both'));
      return encode(altered(x));
    });
    rejected(tampered, /response's own signature does not verify/);
    accepted(await send((x) => encode(idp.sign(x, 'both'))));
  });

  it('signature wrapping: a second, unsigned assertion is refused', async () => {
    const { send } = await signIn();
    const forge = (x: string) => {
      const signedXml = idp.sign(x);
      const signedAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signedXml)![0];
      const forged = signedAssertion
        .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
        .replace(/ID="[^"]+"/, 'ID="_forged"')
        .replace('>rita@example.org<', '>admin@example.org<');
      return { signedXml, signedAssertion, forged };
    };
    // Before the signed one (where a naive reader looks first), and hidden in Extensions.
    rejected(await send((x) => { const f = forge(x); return encode(f.signedXml.replace(f.signedAssertion, f.forged + f.signedAssertion)); }), /exactly one assertion/);
    rejected(await send((x) => { const f = forge(x); return encode(f.signedXml.replace('<samlp:Status>', `<samlp:Extensions>${f.forged}</samlp:Extensions><samlp:Status>`)); }), /exactly one assertion/);
    accepted(await send(signed));
  });

  it('a NameID split by a comment is read whole: the signature holds and the user is admin@evil.example, not admin', async () => {
    const { send } = await signIn({ nameId: 'admin@evil.example' });
    accepted(await send((x) => encode(idp.sign(x).replace('>admin@evil.example<', '>admin<!---->@evil.example<'))));
    const user = await gw.services.users.get('admin@evil.example');
    expect(user.source).toBe('okta');
    expect((await gw.services.users.get('admin')).source).toBe('local');
  });

  it('an assertion for another audience is refused', async () => {
    const { send } = await signIn();
    rejected(await send((x) => signed(x.replace(`<saml:Audience>${audience}<`, '<saml:Audience>https://other-sp.example/metadata<'))), /Audience is not this gateway's entity ID/);
    accepted(await send(signed));
  });

  it('a response for another Destination, or an assertion for another Recipient, is refused', async () => {
    const { send } = await signIn();
    rejected(await send((x) => signed(x.replace(`Destination="${acs}"`, 'Destination="https://other-sp.example/acs"'))), /Destination is not this gateway's ACS URL/);
    rejected(await send((x) => signed(x.replace(`Recipient="${acs}"`, 'Recipient="https://other-sp.example/acs"'))), /Recipient is not this gateway's ACS URL/);
    accepted(await send(signed));
  });

  it('an assertion from another issuer is refused', async () => {
    const { send } = await signIn();
    rejected(await send((x) => signed(x.replaceAll(`<saml:Issuer>${idp.entityId}</saml:Issuer>`, '<saml:Issuer>https://other-idp.example</saml:Issuer>'))), /Issuer is not the IdP in the metadata/);
    accepted(await send(signed));
  });

  it('an expired or not yet valid assertion is refused; the clock skew (180s) is tolerated', async () => {
    const now = gw.clock.now;
    const expired = await signIn({ notBefore: now - 10 * 60_000, notOnOrAfter: now - 4 * 60_000 });
    rejected(await expired.send(signed), /expired|validity period/);
    const early = await signIn({ notBefore: now + 4 * 60_000, notOnOrAfter: now + 10 * 60_000 });
    rejected(await early.send(signed), /not valid yet|validity period/);
    const withinSkew = await signIn({ notBefore: now - 10 * 60_000, notOnOrAfter: now - 60_000 });
    accepted(await withinSkew.send(signed));
  });

  it('a replayed assertion is refused', async () => {
    const { request, xml, send } = await signIn();
    const response = signed(xml);
    accepted(await postToAcs(acs, response, request.relayState));
    // The same response under a new sign-in (a fresh RelayState): the assertion ID is spent.
    rejected(await send(signed), /already been used \(replay\)/);
  });

  it('a RelayState is used up by the first response that names it, even a refused one', async () => {
    const { request, xml } = await signIn();
    rejected(await postToAcs(acs, encode(xml), request.relayState), /neither the response nor its assertion is signed/);
    rejected(await postToAcs(acs, signed(xml), request.relayState), /already been answered/);
  });

  it('a response to a request this gateway did not send is refused', async () => {
    const forged = await signIn({ inResponseTo: '_never-sent-by-tessera' });
    rejected(await forged.send(signed), /InResponseTo does not match/);
    // The same response answering its own sign-in's request id is accepted.
    accepted(await forged.send((x, request) => signed(x.replaceAll('_never-sent-by-tessera', request.id))));
    // A RelayState the gateway never issued.
    const { xml: other } = await signIn();
    rejected(await postToAcs(acs, signed(other), 'x'.repeat(43)), /unknown or has expired/);
  });

  it('XML with a DOCTYPE is refused before parsing', async () => {
    const { send } = await signIn();
    rejected(await send((x) => encode(`<!DOCTYPE samlp:Response [<!ENTITY who "rita@example.org">]>${idp.sign(x)}`)), /DOCTYPE or entity declaration/);
    accepted(await send(signed));
  });

  it('a response that is not valid against the SAML schema is refused', async () => {
    const { send } = await signIn();
    // The Response element (not covered by the assertion's signature) with an attribute SAML does not define.
    rejected(await send((x) => encode(idp.sign(x).replace('<samlp:Response ', '<samlp:Response Tessera="unexpected" '))), /XML schema check failed/);
    accepted(await send(signed));
  });

  it('SHA-1 signatures are refused', async () => {
    const { send } = await signIn();
    rejected(await send((x) => encode(idp.sign(x, 'assertion', idp.keys, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'))), /SHA-1/);
    accepted(await send(signed));
  });

  it('a response signed only at the Response level is accepted too', async () => {
    const { send } = await signIn();
    accepted(await send((x) => encode(idp.sign(x, 'response'))));
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
