/**
 * The device cookie in a real browser (Chromium) and in the OIDC login step: a browser that signed
 * in before is a known device, which distributed failures cannot lock out, while unknown browsers
 * are still slowed down. Cookies that must belong to this host carry `__Host-` on an https issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';

const LIMITS = { maxFailuresPerAccountAndIp: 5, maxFailuresPerAccount: 50, maxFailuresPerIp: 100, window: '15m' };

/** 11 addresses x 5 wrong passwords through the API: more than the account-wide limit. */
async function distributedGuessing(gw: TestGateway, username: string): Promise<void> {
  for (let n = 1; n <= 11; n++) {
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        gw.api('POST', '/api/v1/login', { body: { username, password: `guess-${n}-${i}` }, headers: { 'x-forwarded-for': `203.0.113.${n}` } }),
      ),
    );
  }
  const attacker = await gw.api('POST', '/api/v1/login', { body: { username, password: 'one-more-guess' }, headers: { 'x-forwarded-for': '203.0.113.77' } });
  expect(attacker.status).toBe(429);
}

describe('known browsers (Chromium, https issuer)', () => {
  const chromium = useChromium();
  let gw: TestGateway;

  beforeAll(async () => {
    // The test gateway's issuer is https://tessera.test, served on loopback, which Chromium
    // treats as a secure context: Secure and __Host- cookies behave as on a real https site.
    gw = await startTestGateway({ config: { server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test', trustProxy: true }, auth: { lockout: LIMITS } } });
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  const submit = async (page: Awaited<ReturnType<typeof chromium.newPage>>, username: string, password: string) => {
    await page.goto(`${gw.url}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
    return response.status();
  };

  const signOut = async (page: Awaited<ReturnType<typeof chromium.newPage>>) => {
    await page.waitForURL(`${gw.url}/manage_tokens`);
    await Promise.all([page.waitForURL(/done=signed-out/), page.getByRole('button', { name: 'Sign out' }).click()]);
  };

  it('the sign-in CSRF cookie and the device cookie are __Host- cookies: Secure, HttpOnly, Path=/', async () => {
    const page = await chromium.newPage();
    await page.goto(`${gw.url}/login`);
    const csrf = (await page.context().cookies()).find((c) => c.name === '__Host-tessera_login_csrf');
    expect(csrf).toMatchObject({ secure: true, httpOnly: true, path: '/', sameSite: 'Lax' });
    expect((await page.context().cookies()).some((c) => c.name === 'tessera_login_csrf')).toBe(false);

    expect(await submit(page, 'bob', 'bob-password')).toBe(303);
    await page.waitForURL(`${gw.url}/manage_tokens`);
    const device = (await page.context().cookies()).find((c) => c.name === '__Host-tessera_device')!;
    expect(device).toMatchObject({ secure: true, httpOnly: true, path: '/', sameSite: 'Lax' });
    // Kept for auth.lockout.deviceTtl (180 days), well beyond the browser session.
    expect(device.expires * 1000 - Date.now()).toBeGreaterThan(170 * 86_400_000);
  });

  it('distributed failures do not lock out the owner’s known browser, and still stop unknown ones', async () => {
    const owner = await chromium.newPage();
    expect(await submit(owner, 'alice', 'alice-password')).toBe(303);
    await signOut(owner);

    await distributedGuessing(gw, 'alice');

    // The owner's browser, signed out but known, signs straight in.
    expect(await submit(owner, 'alice', 'alice-password')).toBe(303);
    await owner.waitForURL(`${gw.url}/manage_tokens`);
    expect(await owner.getByRole('heading', { level: 1 }).textContent()).toBe('Your access tokens');

    // A browser that never signed in is an unknown source: refused, with the password right.
    const stranger = await chromium.newPage();
    expect(await submit(stranger, 'alice', 'alice-password')).toBe(429);
    expect(await stranger.getByRole('alert').textContent()).toMatch(/Too many failed attempts\. Please wait/);
    // A device cookie of another account (bob's) does not make it known for alice.
    const bobs = await chromium.newPage();
    expect(await submit(bobs, 'bob', 'bob-password')).toBe(303);
    await signOut(bobs);
    expect(await submit(bobs, 'alice', 'alice-password')).toBe(429);
  });
});

describe('known devices in the OIDC login step, and a plain-http issuer', () => {
  let gw: TestGateway;
  const WEB = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'https://app.example/cb' };

  beforeAll(async () => {
    const port = await freePort();
    gw = await startTestGateway({
      config: { server: { port, host: '127.0.0.1', issuer: `http://127.0.0.1:${port}`, trustProxy: true }, auth: { lockout: LIMITS }, clients: [{ id: WEB.id, secret: WEB.secret, name: 'Web App', redirectUris: [WEB.redirect], firstParty: true }] },
    });
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'olivia', password: 'olivia-password' } })).status).toBe(201);
  });
  afterAll(() => gw?.stop());

  const cookies = (browser: CookieBrowser) => (browser as unknown as { jar: Map<string, string> }).jar;

  /** Starts an authorization request and posts the login form; returns the answer to the post. */
  async function oidcLogin(browser: CookieBrowser, password: string) {
    const query = new URLSearchParams({ client_id: WEB.id, response_type: 'code', scope: 'openid', redirect_uri: WEB.redirect, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', prompt: 'login' });
    const page = await browser.follow(await browser.get(`${gw.url}/oauth2/authorize?${query}`), gw.url);
    const form = formFields(page.text, '/login');
    return browser.follow(await browser.post(gw.url + form.action, { username: 'olivia', password }), gw.url);
  }

  it('on plain http the cookies keep their unprefixed names (no __Host-, no Secure)', async () => {
    const res = await fetch(`${gw.url}/login`);
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/^tessera_login_csrf=[\w-]+; path=\/login; samesite=lax; httponly$/m);
    expect(setCookie).not.toMatch(/__Host-|secure/i);
  });

  it('a browser that signed in through the OIDC login step stays known there during an attack', async () => {
    const owner = new CookieBrowser();
    const first = await oidcLogin(owner, 'olivia-password');
    expect(first.location).toMatch(new RegExp(`^${WEB.redirect}\\?code=`));
    expect(cookies(owner).get('tessera_device')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    await distributedGuessing(gw, 'olivia');

    const again = await oidcLogin(owner, 'olivia-password');
    expect(again.location).toMatch(new RegExp(`^${WEB.redirect}\\?code=`));
    const stranger = await oidcLogin(new CookieBrowser(), 'olivia-password');
    expect(stranger.status).toBe(429);
    expect(stranger.text).toContain('Too many failed attempts');
  });
});
