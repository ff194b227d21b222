/**
 * Refusals that name their real cause, for the three cases an administrator wiring up an IdP
 * meets and that once showed another rule's message: an encrypted assertion nobody signed, an
 * encrypted assertion sent to a source that has no key to decrypt it, and the IdP's dashboard
 * tile (with its "default RelayState") on a source that does not take IdP-initiated sign-ins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { encode, makeKeyPair, postToAcs, SamlBrowser, samlWorkersReady, TestIdp } from '../../helpers/saml-idp.js';

describe('SAML refusals name the cause', () => {
  let gw: TestGateway;
  let idp: TestIdp;

  beforeAll(async () => {
    idp = new TestIdp();
    const enc = makeKeyPair('tessera-sp-encryption');
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        saml: [
          { id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata() },
          { id: 'okta-enc', displayName: 'Okta', idpMetadata: idp.metadata(), encryptionKey: enc.key, encryptionCert: enc.cert },
        ],
      },
    });
    await samlWorkersReady();
  }, 180_000);
  afterAll(() => gw?.stop());

  function refusal(page: Page): string {
    expect(page.status, page.text.slice(0, 300)).toBe(403);
    return (/id="sign-in-error">([^<]*)/.exec(page.text)?.[1] ?? '').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
  }

  /** A sign-in started at `source`, and the unsigned response XML that answers it. */
  async function started(source: string, nameId = 'ella@example.org') {
    const request = await new SamlBrowser().startSignIn(`${gw.url}/saml/${source}/login`, idp);
    const xml = idp.responseXml({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: `${gw.url}/saml/${source}/metadata`, nameId, now: gw.clock.now });
    return { request, xml };
  }

  const spMetadata = async (source: string) => (await fetch(`${gw.url}/saml/${source}/metadata`)).text();

  it('an encrypted assertion that nobody signed: "not signed", not a signature or decryption failure', async () => {
    const { request, xml } = await started('okta-enc');
    const encrypted = await idp.encrypt(xml, await spMetadata('okta-enc'));
    const message = refusal(await postToAcs(request.acsUrl, encrypted, request.relayState));
    expect(message).toMatch(/encrypted assertion is not signed, and neither is the response/);
    // The same assertion signed before encryption (Okta's way) is accepted.
    const again = await started('okta-enc');
    const accepted = await postToAcs(again.request.acsUrl, await idp.encrypt(idp.sign(again.xml), await spMetadata('okta-enc')), again.request.relayState);
    expect(accepted.status, accepted.text.slice(0, 300)).toBe(303);
  });

  it('an encrypted assertion is held to the shape limits before samlify decrypts and verifies it', async () => {
    const { request, xml } = await started('okta-enc', 'refs@example.org');
    // Anyone can encrypt to the published certificate: 50 References, hidden inside.
    const heavy = idp.sign(xml).replace(/<ds:Reference [\s\S]*?<\/ds:Reference>/, (ref) => ref.repeat(50));
    const encrypted = await idp.encrypt(heavy, await spMetadata('okta-enc'));
    expect(Buffer.from(encrypted, 'base64').toString()).not.toContain('ds:Reference');
    expect(refusal(await postToAcs(request.acsUrl, encrypted, request.relayState))).toMatch(/more than one Reference/);
  });

  it('an encrypted assertion sent to a source without a decryption key: "no decryption key", not "exactly one assertion"', async () => {
    const { request, xml } = await started('okta');
    // Encrypted for a certificate the IdP was given, but the source has no key configured.
    const encrypted = await idp.encrypt(idp.sign(xml), await spMetadata('okta-enc'));
    const message = refusal(await postToAcs(request.acsUrl, encrypted, request.relayState));
    expect(message).toMatch(/the assertion is encrypted, and this source has no decryption key/);
    expect(message).not.toMatch(/exactly one assertion/);
  });

  it('the IdP tile with a default RelayState on a source without IdP-initiated sign-in: "turned off", not "expired"', async () => {
    const unsolicited = idp.response({ acsUrl: `${gw.url}/saml/okta/acs`, audience: `${gw.url}/saml/okta/metadata`, nameId: 'ella@example.org', now: gw.clock.now });
    for (const relayState of ['/manage_tokens', 'https://tessera.example/manage_tokens', undefined]) {
      const message = refusal(await postToAcs(`${gw.url}/saml/okta/acs`, unsolicited, relayState));
      expect(message, String(relayState)).toMatch(/IdP-initiated sign-in is turned off for Okta/);
    }
    // A RelayState of Tessera's shape that it never issued is still "unknown or expired".
    expect(refusal(await postToAcs(`${gw.url}/saml/okta/acs`, unsolicited, 'x'.repeat(43)))).toMatch(/unknown or has expired/);
  });

  it('a response refused by the cheap scan changes nothing and names the limit', async () => {
    const { request, xml } = await started('okta', 'deep@example.org');
    const deep = xml.replace('<samlp:Status>', `<samlp:Extensions>${'<x:e xmlns:x="urn:x">'.repeat(40)}${'</x:e>'.repeat(40)}</samlp:Extensions><samlp:Status>`);
    expect(refusal(await postToAcs(request.acsUrl, encode(deep), request.relayState))).toMatch(/nests deeper than 24 elements/);
    expect(await gw.services.store.findUserByName('deep@example.org')).toBeNull();
  });
});
