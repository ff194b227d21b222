/**
 * The web pages over plain HTTP (no browser): redirects for signed-out visitors, error pages,
 * headers, and the Origin/CSRF checks on requests a browser would not let a test forge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('web pages over HTTP', () => {
  let gw: TestGateway;
  const browser = new CookieBrowser();

  beforeAll(async () => {
    gw = await startTestGateway({ store: 'memory' });
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'jane', password: 'jane-password' } })).status).toBe(201);
  });
  afterAll(() => gw?.stop());

  it('sends signed-out visitors to the sign-in page, and a form post there without a return', async () => {
    expect((await browser.get(`${gw.url}/`)).location).toBe(`${gw.url}/login`);
    const get = await browser.get(`${gw.url}/admin/users?q=x`);
    expect(get.status).toBe(303);
    expect(get.location).toBe(`${gw.url}/login?return=%2Fadmin%2Fusers%3Fq%3Dx`);
    const post = await browser.post(`${gw.url}/manage_tokens`, { name: 'x' });
    expect(post.status).toBe(303);
    expect(post.location).toBe(`${gw.url}/login`);
  });

  it('refuses a sign-in form from another origin (login CSRF)', async () => {
    const page = await browser.post(`${gw.url}/login`, { username: 'jane', password: 'jane-password' }, { origin: 'http://evil.example' });
    expect(page.status).toBe(403);
    expect(page.text).toContain('Not allowed');
  });

  it('refuses a sign-in form without the sign-in page\'s token, even from a client that sends no Origin', async () => {
    const stranger = new CookieBrowser();
    const page = await stranger.post(`${gw.url}/login`, { username: 'jane', password: 'jane-password' });
    expect(page.status).toBe(403);
    expect(page.location).toBeUndefined();
    // The token of one browser does not work in another.
    const mine = formFields((await browser.get(`${gw.url}/login`)).text, 'action="/login"').fields;
    expect((await stranger.post(`${gw.url}/login`, { ...mine, username: 'jane', password: 'jane-password' })).status).toBe(403);
  });

  it('shows 404 pages, security headers, and refuses sign-out without the CSRF token', async () => {
    const loginForm = formFields((await browser.get(`${gw.url}/login`)).text, 'action="/login"').fields;
    const signIn = await browser.post(`${gw.url}/login`, { ...loginForm, username: 'jane', password: 'jane-password', return: '/account' });
    expect(signIn.location).toBe(`${gw.url}/account`);

    const tokens = await fetch(`${gw.url}/manage_tokens`, { headers: { cookie: browser['cookieHeader']() } });
    expect(tokens.headers.get('content-security-policy')).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    expect(tokens.headers.get('cache-control')).toBe('no-store');

    const missing = await browser.get(`${gw.url}/manage_tokens/no/such/page`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('<h1>Not found</h1>');
    const csrf = formFields((await browser.get(`${gw.url}/manage_tokens`)).text, 'action="/logout"').fields;
    const token = await browser.post(`${gw.url}/manage_tokens/${'A'.repeat(22)}/revoke`, csrf);
    expect(token.status).toBe(404);
    // A valid CSRF token does not help a request whose Origin is another site.
    const foreign = await browser.post(`${gw.url}/manage_tokens`, { ...csrf, name: 'planted', expires: '7d' }, { origin: 'http://127.0.0.1:1' });
    expect(foreign.status).toBe(403);
    const crossSite = await browser.post(`${gw.url}/manage_tokens`, { ...csrf, name: 'planted', expires: '7d' }, { 'sec-fetch-site': 'same-site' });
    expect(crossSite.status).toBe(403);
    expect((await browser.post(`${gw.url}/login`, { username: 'jane', password: 'jane-password' }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Our pages send no referrer, so a browser may say `Origin: null` for our own forms: the token decides.
    expect((await browser.post(`${gw.url}/manage_tokens`, { name: 'planted', expires: '7d' }, { origin: 'null' })).status).toBe(403);
    const same = await browser.post(`${gw.url}/manage_tokens`, { ...csrf, name: 'mine', expires: '7d' }, { origin: 'null' });
    expect(same.status).toBe(201);

    expect((await browser.post(`${gw.url}/logout`, {})).status).toBe(403);
    expect((await browser.get(`${gw.url}/account`)).status).toBe(200);
    const { fields } = formFields((await browser.get(`${gw.url}/account`)).text, 'action="/logout"');
    expect((await browser.post(`${gw.url}/logout`, fields)).location).toBe(`${gw.url}/login?done=signed-out`);
    expect((await browser.get(`${gw.url}/account`)).status).toBe(303);
  });
});
