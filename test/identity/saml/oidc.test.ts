/**
 * Signing in to an OIDC application, and a CLI's device flow, through the SAML source: the
 * interaction page's "Sign in with Okta" link, the IdP, the IdP's cross-site POST to the ACS
 * (sent without any cookie, as a browser sends it under SameSite=Lax), then the 303 back to the
 * interaction, which the browser follows with its `_interaction` cookie.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formFields, type Page } from '../../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { postToAcs, SamlBrowser, samlWorkersReady, TestIdp } from '../../helpers/saml-idp.js';

const WEB = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'http://127.0.0.1:9/callback' };

describe('OIDC login through the SAML source', () => {
  let gw: TestGateway;
  let idp: TestIdp;
  let issuer: URL;

  beforeAll(async () => {
    idp = new TestIdp();
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [{ id: WEB.id, secret: WEB.secret, name: 'Web App', redirectUris: [WEB.redirect] }],
        saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.metadata(), roleMapping: { admin: ['tessera-admins'] } }],
      },
    });
    issuer = new URL(gw.services.config.server.issuer!);
    // The response workers compile their schema validator first: not inside a test's timeout.
    await samlWorkersReady();
  }, 180_000);
  afterAll(() => gw?.stop());

  /** From the interaction's sign-in page, through the IdP, back to the interaction; returns the page after. */
  async function signInWithOkta(browser: SamlBrowser, signInPage: Page, nameId: string): Promise<{ page: Page; acs: Page }> {
    expect(signInPage.text).toContain('Sign in with Okta');
    const href = /href="(\/saml\/okta\/login\?interaction=[^"]+)"/.exec(signInPage.text)![1]!.replace(/&amp;/g, '&');
    const request = await browser.startSignIn(gw.url + href, idp);
    const response = idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: `${gw.url}/saml/okta/metadata`, nameId, attributes: { groups: ['developers'] }, now: gw.clock.now });
    const acs = await postToAcs(request.acsUrl, response, request.relayState);
    expect(acs.status, acs.text.slice(0, 800)).toBe(303);
    expect(acs.location).toMatch(new RegExp(`^${gw.url}/interaction/[^/]+/saml/okta\\?code=`));
    return { page: await browser.follow(await browser.get(acs.location!), gw.url), acs };
  }

  it('authorization code + PKCE: the SAML user signs in, consents, and the app gets tokens for them', async () => {
    const web = await client.discovery(issuer, WEB.id, WEB.secret, undefined, { execute: [client.allowInsecureRequests] });
    const browser = new SamlBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(web, {
      redirect_uri: WEB.redirect,
      scope: 'openid profile groups',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const signInPage = await browser.follow(await browser.get(url.toString()), gw.url);
    let { page } = await signInWithOkta(browser, signInPage, 'olga@example.org');
    if (page.status === 200 && page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { decision: 'allow' }), gw.url);
    }
    expect(page.location, page.text.slice(0, 500)).toMatch(new RegExp(`^${WEB.redirect}\\?code=`));

    const tokens = await client.authorizationCodeGrant(web, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state });
    const olga = await gw.services.users.get('olga@example.org');
    expect(tokens.claims()!.sub).toBe(olga.id);
    const info = await client.fetchUserInfo(web, tokens.access_token, olga.id);
    expect(info).toMatchObject({ preferred_username: 'olga@example.org', tessera_source: 'okta', groups: ['developers'] });
  });

  it('the hand-off back to the interaction needs the browser that started it', async () => {
    const web = await client.discovery(issuer, WEB.id, WEB.secret, undefined, { execute: [client.allowInsecureRequests] });
    const browser = new SamlBrowser();
    const url = client.buildAuthorizationUrl(web, { redirect_uri: WEB.redirect, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const signInPage = await browser.follow(await browser.get(url.toString()), gw.url);
    const href = /href="(\/saml\/okta\/login\?interaction=[^"]+)"/.exec(signInPage.text)![1]!;
    const request = await browser.startSignIn(gw.url + href, idp);
    const acs = await postToAcs(request.acsUrl, idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: `${gw.url}/saml/okta/metadata`, nameId: 'olga@example.org', now: gw.clock.now }), request.relayState);
    const stranger = await new SamlBrowser().get(acs.location!);
    expect(stranger.status).toBe(403);
    expect(stranger.location).toBeUndefined();
    // An unknown interaction gets no AuthnRequest at all.
    const unknown = await new SamlBrowser().get(`${gw.url}/saml/okta/login?interaction=nosuchinteraction`);
    expect(unknown.status).toBe(400);
    expect(unknown.location).toBeUndefined();
  });

  it('device flow: a CLI user approves in the browser through the SAML source and the CLI gets tokens', async () => {
    const cli = await client.discovery(issuer, 'tessera-cli', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid profile offline_access' });

    const browser = new SamlBrowser();
    let page = await browser.get(device.verification_uri);
    const input = formFields(page.text, 'op.deviceInputForm');
    page = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: device.user_code });
    const confirm = formFields(page.text, 'op.deviceConfirmForm');
    page = await browser.follow(await browser.post(new URL(confirm.action, gw.url).toString(), confirm.fields), gw.url);
    ({ page } = await signInWithOkta(browser, page, 'devi@example.org'));
    expect(page.text).toContain('Device connected');

    const tokens = await client.genericGrantRequest(cli, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: device.device_code });
    expect(tokens.refresh_token).toBeTruthy();
    const info = await client.fetchUserInfo(cli, tokens.access_token, client.skipSubjectCheck);
    expect(info).toMatchObject({ preferred_username: 'devi@example.org', tessera_source: 'okta' });
  });
});
