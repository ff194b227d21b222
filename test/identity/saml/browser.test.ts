/**
 * The SAML round trip in a real browser (Chromium), where SameSite and cookie paths are enforced:
 * the IdP on `localhost` auto-posts its form to the gateway on 127.0.0.1, a cross-site POST that
 * carries none of the gateway's Lax cookies. Both the web sign-in and an OIDC login (whose
 * `_interaction` cookie is scoped to /interaction/<uid>) must still complete.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { launchChromium } from '../../helpers/chromium.js';
import { samlWorkersReady, serveTestIdp } from '../../helpers/saml-idp.js';

// Never reached: the test only watches the browser set off to it.
const WEB = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'http://app.example.test/callback' };

describe('SAML in a real browser', () => {
  let gw: TestGateway;
  let idp: Awaited<ReturnType<typeof serveTestIdp>>;
  let browser: Browser;
  let user = { nameId: 'bea@example.org', attributes: { displayName: ['Bea Browser'] } };

  beforeAll(async () => {
    idp = await serveTestIdp(() => user, () => gw.clock.now);
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [{ id: WEB.id, secret: WEB.secret, name: 'Web App', redirectUris: [WEB.redirect], firstParty: true }, { ...CLIENT, resourceServer: true }],
        saml: [{ id: 'okta', displayName: 'Okta', idpMetadata: idp.idp.metadata() }],
      },
    });
    browser = await launchChromium();
    // The response workers compile their schema validator first: not inside a test's timeout.
    await samlWorkersReady();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await idp?.close();
  });

  it('web sign-in: "Sign in with Okta" on the sign-in page, then a token made on the token page works', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gw.url}/login?return=/manage_tokens`);
    await page.getByRole('link', { name: 'Sign in with Okta' }).click();
    await page.waitForURL(`${gw.url}/manage_tokens`);
    await page.getByLabel('Name').fill('sso laptop');
    await page.getByRole('button', { name: 'Generate token' }).click();
    const secret = (await page.locator('#new-token').textContent())!.trim();
    expect(secret).toMatch(/^tsr_/);
    expect((await gw.introspect(secret)).body).toMatchObject({ active: true, username: 'bea@example.org', user_source: 'okta' });
    const session = (await context.cookies()).find((c) => c.name === 'tessera_session');
    expect(session?.value).toMatch(/^tsa_/);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect((await gw.api('GET', '/api/v1/me', { token: session!.value })).body).toMatchObject({ username: 'bea@example.org' });
    await context.close();
  });

  it('OIDC login: the interaction survives the cross-site POST and the app receives a code', async () => {
    user = { nameId: 'otto@example.org', attributes: { displayName: ['Otto'] } };
    const context = await browser.newContext();
    const page = await context.newPage();
    const authorize = `${gw.url}/oauth2/authorize?${new URLSearchParams({ client_id: WEB.id, response_type: 'code', scope: 'openid', redirect_uri: WEB.redirect, state: 'st4te', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    await page.goto(authorize);
    // oidc-provider scopes the interaction cookie to the interaction's path: the sign-in must end there.
    const interactionCookie = (await context.cookies()).find((c) => c.name === '_interaction');
    expect(interactionCookie).toMatchObject({ sameSite: 'Lax', path: expect.stringMatching(/^\/interaction\//) });
    // The browser is sent to the app's redirect URI (not served here: seeing the request is enough).
    const toApp = page.waitForRequest((request) => request.url().startsWith(WEB.redirect));
    const toAcs = page.waitForRequest((request) => request.url() === `${gw.url}/saml/okta/acs`);
    await page.getByRole('link', { name: 'Sign in with Okta' }).click();
    const callback = (await toApp).url();
    expect(callback).toMatch(/[?&]code=[^&]+/);
    // The premise: the IdP's POST really arrived without the gateway's cookies.
    const acsCookies = (await (await toAcs).allHeaders()).cookie ?? '';
    expect(acsCookies).not.toContain('_interaction');
    expect(acsCookies).not.toContain('tessera_saml_browser');
    expect(new URL(callback!).searchParams.get('state')).toBe('st4te');
    await context.close();
  });
});
