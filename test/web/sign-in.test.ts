import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie, signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('web sign-in, sign-out and the admin boundary (Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      config: {
        loginBanner: 'Authorised use only.',
        auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 50, maxFailuresPerIp: 100, window: '10m' } },
      },
    });
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob', 'dave']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  it('signs in with a local account, returning to the page that asked, with an HttpOnly SameSite=Lax cookie', async () => {
    const page = await chromium.newPage();
    await page.goto(`${gw.url}/account`);
    expect(page.url()).toBe(`${gw.url}/login?return=%2Faccount`);
    expect(await page.locator('.banner').textContent()).toBe('Authorised use only.');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gw.url}/account`);
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe('Signed in as alice');
    expect(await page.locator('.facts').textContent()).toContain('Built-in');

    const cookie = (await page.context().cookies()).find((c) => c.name === 'tessera_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // Already signed in: /login and / lead straight to the tokens.
    await page.goto(`${gw.url}/`);
    expect(page.url()).toBe(`${gw.url}/manage_tokens`);
  });

  it('works with the keyboard alone: focus, type, Tab, Enter', async () => {
    const page = await chromium.newPage();
    await page.goto(`${gw.url}/login`);
    // The username field has focus on arrival.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('username');
    await page.keyboard.type('bob');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    await page.keyboard.type('bob-password');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${gw.url}/manage_tokens`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your access tokens');
  });

  it('shows one message for a wrong password and an unknown user, keeps the username, never the password', async () => {
    const page = await chromium.newPage();
    const attempt = async (username: string) => {
      await page.goto(`${gw.url}/login`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill('wrong-password');
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
      expect(response.status()).toBe(401);
      expect(await page.getByLabel('Username').inputValue()).toBe(username);
      expect(await page.getByLabel('Password').inputValue()).toBe('');
      return page.getByRole('alert').textContent();
    };
    const wrong = await attempt('alice');
    const unknown = await attempt('nobody-at-all');
    expect(wrong).toMatch(/Sign-in failed/);
    expect(unknown).toBe(wrong);
  });

  it('explains throttling politely (429) instead of a raw error', async () => {
    const page = await chromium.newPage();
    let status = 0;
    for (let i = 0; i < 4; i++) {
      await page.goto(`${gw.url}/login`);
      await page.getByLabel('Username').fill('dave');
      await page.getByLabel('Password').fill('not-daves-password');
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
      status = response.status();
    }
    expect(status).toBe(429);
    expect(await page.getByRole('alert').textContent()).toMatch(/Too many failed attempts\. Please wait/);
  });

  it('returns only to paths on this site', async () => {
    const page = await chromium.newPage();
    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/%09/evil.example'.replace('%09', '\t')]) {
      await page.goto(`${gw.url}/login?return=${encodeURIComponent(target)}`);
      expect(await page.locator('input[name=return]').count()).toBe(0);
    }
    await page.goto(`${gw.url}/login?return=${encodeURIComponent('//evil.example/x')}`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gw.url}/manage_tokens`);
  });

  it('gives a normal user a 403 page on every admin page and admin form', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'bob', 'bob-password');
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    for (const path of ['/admin/users', '/admin/users/alice', '/admin/revoke-all', '/admin/no-such-page']) {
      const response = await page.goto(`${gw.url}${path}`);
      expect(response!.status()).toBe(403);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Not allowed');
    }
    // Even with a valid CSRF token of their own, the emergency switch is refused.
    await page.goto(`${gw.url}/manage_tokens`);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const alice = await gw.personalToken('alice', 'alice-password');
    const post = await page.request.post(`${gw.url}/admin/revoke-all`, { form: { _csrf: csrf, confirm: 'revoke-all' }, maxRedirects: 0 });
    expect(post.status()).toBe(403);
    expect((await gw.introspect(alice)).body.active).toBe(true);
  });

  it('signing out ends the session on the server, not just in the browser', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'alice', 'alice-password');
    const cookie = (await sessionCookie(page))!;
    expect((await gw.api('GET', '/api/v1/me', { token: cookie })).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gw.url}/login?done=signed-out`);
    expect(await page.getByText('You have signed out.').isVisible()).toBe(true);
    expect((await gw.api('GET', '/api/v1/me', { token: cookie })).status).toBe(401);
    await page.goto(`${gw.url}/manage_tokens`);
    expect(page.url()).toBe(`${gw.url}/login?return=%2Fmanage_tokens`);
  });
});
