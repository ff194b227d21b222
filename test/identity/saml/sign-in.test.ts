/**
 * Web sign-in through a SAML IdP over real HTTP: SP metadata, SP-initiated sign-in to a browser
 * session, personal access tokens for the SAML user, role mapping, IdP-initiated sign-in (off
 * by default), and IdP metadata fetched from a URL and kept in the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import samlify from 'samlify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { SamlSource } from '../../../src/identity/saml/saml-source.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { encode, makeKeyPair, postToAcs, SamlBrowser, samlWorkersReady, TestIdp } from '../../helpers/saml-idp.js';
import { captureLog } from '../../helpers/log-capture.js';

describe('SAML sign-in (web)', () => {
  let gw: TestGateway;
  let idp: TestIdp;
  let admin: string;
  const audience = (id: string) => `${gw.url}/saml/${id}/metadata`;

  beforeAll(async () => {
    idp = new TestIdp();
    const source = { displayName: 'Okta', idpMetadata: idp.metadata(), roleMapping: { admin: ['tessera-admins'] } };
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        saml: [
          { id: 'okta', ...source },
          { id: 'okta-tile', ...source, allowIdpInitiated: true },
        ],
      },
    });
    admin = await gw.login('admin', ADMIN_PASSWORD);
    // The response workers compile their schema validator first: not inside a test's timeout.
    await samlWorkersReady();
  }, 180_000);
  afterAll(() => gw?.stop());

  /** SP-initiated sign-in to the end: returns the browser (signed in) and where it landed. */
  async function signIn(nameId: string, attributes: Record<string, string[]> = {}, path = '/saml/okta/login') {
    const browser = new SamlBrowser();
    const request = await browser.startSignIn(gw.url + path, idp);
    const response = idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: audience('okta'), nameId, attributes, now: gw.clock.now });
    const acs = await postToAcs(request.acsUrl, response, request.relayState);
    expect(acs.status, acs.text.slice(0, 800)).toBe(303);
    const landed = await browser.get(acs.location!);
    return { browser, acs, landed };
  }

  it('serves SP metadata with the ACS URL and entity ID to give the IdP', async () => {
    const res = await fetch(`${gw.url}/saml/okta/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const xml = await res.text();
    expect(xml).toContain(`entityID="${audience('okta')}"`);
    expect(xml).toContain(`Location="${gw.url}/saml/okta/acs"`);
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect((await fetch(`${gw.url}/saml/nobody/metadata`)).status).toBe(404);
  });

  it('signs in, starts a browser session, and the SAML user creates a PAT that introspects with its source', async () => {
    const { browser, acs, landed } = await signIn('sam@example.org', { email: ['sam@example.org'], displayName: ['Sam Saml'], groups: ['developers', 'ops'] }, '/saml/okta/login?return=/manage_tokens%3Ftab%3Dmine');
    // The ACS (a cross-site POST, no cookies) hands off; the GET back carries the session.
    expect(acs.location).toMatch(/\/saml\/okta\/complete\?code=/);
    expect(landed.status).toBe(303);
    expect(landed.location).toBe(`${gw.url}/manage_tokens?tab=mine`);
    const session = browser.cookie('tessera_session');
    expect(session).toMatch(/^tsa_/);

    const user = await gw.services.users.get('sam@example.org');
    expect(user).toMatchObject({ source: 'okta', displayName: 'Sam Saml', email: 'sam@example.org', groups: ['developers', 'ops'], role: 'normal', enabled: true });

    const me = await gw.api('GET', '/api/v1/me', { token: session });
    expect(me.status).toBe(200);
    const created = await gw.api('POST', '/api/v1/tokens', { token: session, body: { name: 'laptop', expires_in: '30d' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const seen = await gw.introspect(created.body.token);
    expect(seen.body).toMatchObject({ active: true, username: 'sam@example.org', user_source: 'okta' });

    // An admin creates one for the SAML user too.
    const forSam = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'ci for sam', user: 'sam@example.org' } });
    expect(forSam.status).toBe(201);
    expect((await gw.introspect(forSam.body.token)).body).toMatchObject({ active: true, username: 'sam@example.org', user_source: 'okta' });
  });

  it('the hand-off code works once, and only in the browser that started the sign-in', async () => {
    const browser = new SamlBrowser();
    const request = await browser.startSignIn(`${gw.url}/saml/okta/login`, idp);
    const acs = await postToAcs(request.acsUrl, idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: audience('okta'), nameId: 'sam@example.org', now: gw.clock.now }), request.relayState);
    // Another browser (a victim lured to the link: login CSRF) is refused, and the code is spent.
    const stranger = await new SamlBrowser().get(acs.location!);
    expect(stranger.status).toBe(403);
    expect(stranger.text).toContain('started in another browser');
    const again = await browser.get(acs.location!);
    expect(again.status).toBe(403);
    expect(again.text).toContain('expired or was already used');
  });

  it('maps groups to the admin role at every sign-in', async () => {
    await signIn('ada@example.org', { groups: ['tessera-admins'] });
    expect((await gw.services.users.get('ada@example.org')).role).toBe('admin');
    await signIn('ada@example.org', { groups: ['developers'] });
    expect((await gw.services.users.get('ada@example.org')).role).toBe('normal');
  });

  it('refuses a name held by another source, and a disabled user', async () => {
    const browser = new SamlBrowser();
    const request = await browser.startSignIn(`${gw.url}/saml/okta/login`, idp);
    const taken = await postToAcs(request.acsUrl, idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: audience('okta'), nameId: 'admin', now: gw.clock.now }), request.relayState);
    expect(taken.status).toBe(403);
    expect(taken.text).toContain('belongs to another source');

    await signIn('dora@example.org');
    await gw.api('PATCH', '/api/v1/users/dora@example.org', { token: admin, body: { enabled: false } });
    const second = await new SamlBrowser().startSignIn(`${gw.url}/saml/okta/login`, idp);
    const disabled = await postToAcs(second.acsUrl, idp.response({ inResponseTo: second.id, acsUrl: second.acsUrl, audience: audience('okta'), nameId: 'dora@example.org', now: gw.clock.now }), second.relayState);
    expect(disabled.status).toBe(403);
    expect(disabled.text).toContain('disabled');
  });

  it("accepts a response made by samlify's IdentityProvider itself (from the SP metadata it downloaded)", async () => {
    const browser = new SamlBrowser();
    const request = await browser.startSignIn(`${gw.url}/saml/okta/login`, idp);
    const sp = samlify.ServiceProvider({ metadata: await (await fetch(`${gw.url}/saml/okta/metadata`)).text() });
    const { context } = await idp.entity.createLoginResponse(sp, { extract: { request: { id: request.id } } }, 'post', { email: 'sally@example.org' });
    const acs = await postToAcs(request.acsUrl, context, request.relayState);
    expect(acs.status, acs.text.slice(0, 800)).toBe(303);
    expect((await browser.get(acs.location!)).location).toBe(`${gw.url}/manage_tokens`);
    expect((await gw.services.users.get('sally@example.org')).source).toBe('okta');
  });

  it('refuses IdP-initiated sign-in unless the source allows it', async () => {
    const unsolicited = (id: string) => idp.response({ acsUrl: `${gw.url}/saml/${id}/acs`, audience: audience(id), nameId: 'tile@example.org', now: gw.clock.now });
    const refused = await postToAcs(`${gw.url}/saml/okta/acs`, unsolicited('okta'));
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('IdP-initiated sign-in is turned off');

    // The same kind of response to the source that allows it: signed in, and an unsafe
    // RelayState (Okta's "Default RelayState") is not followed.
    const allowed = await postToAcs(`${gw.url}/saml/okta-tile/acs`, unsolicited('okta-tile'), 'https://evil.example/');
    expect(allowed.status, allowed.text.slice(0, 800)).toBe(303);
    const landed = await new SamlBrowser().get(allowed.location!);
    expect(landed.location).toBe(`${gw.url}/manage_tokens`);
    // Even there, a response naming a request nobody sent is refused.
    const orphan = idp.response({ inResponseTo: '_forged', acsUrl: `${gw.url}/saml/okta-tile/acs`, audience: audience('okta-tile'), nameId: 'tile@example.org', now: gw.clock.now });
    const refusedOrphan = await postToAcs(`${gw.url}/saml/okta-tile/acs`, orphan);
    expect(refusedOrphan.text).toContain('does not know');
  });

  it('fetches idpMetadataUrl at start-up and uses the stored copy when the IdP is down at the next start', async () => {
    let served = idp.metadata();
    const server: Server = createServer((_req, res) => res.end(served));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
    const config = parseConfig({ server: { issuer: gw.url }, saml: [{ id: 'okta-url', displayName: 'Okta', idpMetadataUrl: url }] }).saml[0]!;
    const deps = { store: gw.services.store, clock: () => gw.clock.now, signIns: gw.services.samlSignIns, issuer: gw.url };

    const first = new SamlSource(config, deps);
    await first.load();
    expect((await first.signInRedirect('r1')).url).toMatch(new RegExp(`^${idp.ssoUrl}`));
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const afterRestart = new SamlSource(config, deps);
    await afterRestart.load();
    expect((await afterRestart.signInRedirect('r2')).url).toMatch(new RegExp(`^${idp.ssoUrl}`));

    // Without a stored copy (another source id), an unreachable IdP is a 503, not a crash.
    const never = new SamlSource({ ...config, id: 'okta-never' }, deps);
    await never.load();
    await expect(never.signInRedirect('r3')).rejects.toMatchObject({ status: 503 });
    served = '';
  });

  it('refuses metadata without a signing certificate (samlify would trust the one in the message)', async () => {
    const bare = idp.metadata().replace(/<KeyDescriptor[\s\S]*?<\/KeyDescriptor>/g, '');
    const config = parseConfig({ server: { issuer: gw.url }, saml: [{ id: 'okta-bare', displayName: 'Okta', idpMetadata: bare }] }).saml[0]!;
    const logged = captureLog();
    const source = new SamlSource(config, { store: gw.services.store, clock: () => gw.clock.now, signIns: gw.services.samlSignIns, issuer: gw.url, logger: logged.logger });
    await source.load();
    expect(logged.text()).toContain('no signing certificate');
    await expect(source.verifyResponse({ SAMLResponse: encode('<x/>') }, 'r')).rejects.toMatchObject({ status: 503 });
  });

  it('with an encryption key, takes encrypted assertions only', async () => {
    const enc = makeKeyPair('tessera-sp-encryption');
    const config = parseConfig({ server: { issuer: gw.url }, saml: [{ id: 'okta-enc', displayName: 'Okta', idpMetadata: idp.metadata(), encryptionKey: enc.key, encryptionCert: enc.cert }] }).saml[0]!;
    const source = new SamlSource(config, { store: gw.services.store, clock: () => gw.clock.now, signIns: gw.services.samlSignIns, issuer: gw.url });
    expect(source.metadataXml()).toContain('use="encryption"');
    const { requestId } = await source.signInRedirect('relay');
    const signed = idp.sign(idp.responseXml({ inResponseTo: requestId, acsUrl: source.acsUrl, audience: source.spEntityId, nameId: 'eve@example.org', now: gw.clock.now }));
    await expect(source.verifyResponse({ SAMLResponse: encode(signed) }, requestId)).rejects.toThrow('the assertion is not encrypted');
    const encrypted = await idp.encrypt(signed, source.metadataXml());
    expect(Buffer.from(encrypted, 'base64').toString()).toContain('EncryptedAssertion');
    expect(await source.verifyResponse({ SAMLResponse: encrypted }, requestId)).toMatchObject({ source: 'okta-enc', username: 'eve@example.org' });
  });

  it('signs AuthnRequests when the IdP wants them signed', async () => {
    const sp = makeKeyPair('tessera-sp');
    const strict = new TestIdp({ keys: idp.keys });
    const metadata = strict.metadata().replace('WantAuthnRequestsSigned="false"', 'WantAuthnRequestsSigned="true"');
    const base = { id: 'okta-signed', displayName: 'Okta', idpMetadata: metadata };
    const deps = { store: gw.services.store, clock: () => gw.clock.now, signIns: gw.services.samlSignIns, issuer: gw.url };
    const unsigned = new SamlSource(parseConfig({ saml: [base] }).saml[0]!, deps);
    await expect(unsigned.signInRedirect('r')).rejects.toMatchObject({ status: 503 });
    const signed = new SamlSource(parseConfig({ saml: [{ ...base, signingKey: sp.key, signingCert: sp.cert }] }).saml[0]!, deps);
    const { url } = await signed.signInRedirect('r');
    expect(new URL(url).searchParams.get('Signature')).toBeTruthy();
    expect(signed.metadataXml()).toContain('AuthnRequestsSigned="true"');
  });
});
