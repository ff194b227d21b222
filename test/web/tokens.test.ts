import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie, signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('the token page, /manage_tokens (Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let admin: string;

  const tokensOf = async (username: string) =>
    (await gw.api('GET', `/api/v1/tokens?user=${username}&include=revoked,expired`, { token: admin })).body.tokens as { name: string; status: string }[];

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'erin', 'frank', 'grace']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  it('generates a token, shows its secret once, and the secret works until revoked', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'alice', 'alice-password');
    await page.getByLabel('Name').fill('laptop git');
    await page.getByLabel('Description').fill('for pushing\nfrom the laptop');
    await page.getByLabel('90 days').check();
    await page.getByLabel('Scopes').fill('read:packages  resource:repo-42:r');
    const [created] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Generate token' }).click()]);
    expect(created.status()).toBe(201);
    expect(created.headers()['cache-control']).toBe('no-store');
    expect(created.url()).toBe(`${gw.url}/manage_tokens`);

    const secret = (await page.locator('#new-token').textContent())!.trim();
    expect(secret).toMatch(/^tsr_[0-9A-Za-z]{50}$/);
    expect(await page.getByRole('alert').textContent()).toMatch(/shown only once/);
    expect(await page.getByRole('button', { name: 'Copy to clipboard' }).isVisible()).toBe(true);

    const active = await gw.introspect(secret);
    expect(active.body).toMatchObject({ active: true, username: 'alice', scope: 'read:packages resource:repo-42:r' });
    expect(active.body.exp - active.body.iat).toBeGreaterThan(89 * 86400);

    // Reloading asks for the list (GET): the secret is gone for good.
    await page.reload();
    expect(page.url()).toBe(`${gw.url}/manage_tokens`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your access tokens');
    expect(await page.content()).not.toContain(secret);
    const row = page.locator('tr.token-row', { hasText: 'laptop git' });
    expect(await row.locator('.description').textContent()).toBe('for pushing\nfrom the laptop');
    expect(await row.getByText('from 127.0.0.1').count()).toBe(1);

    await page.getByRole('button', { name: 'Revoke laptop git' }).click();
    await page.waitForURL(`${gw.url}/manage_tokens?done=revoked`);
    expect(page.dialogs).toEqual(['Revoke the token “laptop git”? Anything using it is refused from now on.']);
    expect((await gw.introspect(secret)).body).toEqual({ active: false });
    expect(await page.locator('tr.token-row', { hasText: 'laptop git' }).count()).toBe(0);
    // Revoked tokens come back with the filter, marked as such.
    await page.getByLabel('Show revoked').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/revoked=1/);
    expect(await page.locator('tr.token-row', { hasText: 'laptop git' }).locator('.status').textContent()).toBe('revoked');
  });

  it('keeps what was typed when the service refuses the form, and makes auto-refresh tokens', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'erin', 'erin-password');
    await page.getByLabel('Name').fill('ci runner');
    await page.getByLabel('Scopes').fill('resource:repo');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Generate token' }).click()]);
    expect(refused.status()).toBe(400);
    // The error sits under the field it concerns, which says so to a screen reader.
    expect(await page.locator('#token-scopes + #token-scopes-error').textContent()).toMatch(/^Resource scopes look like/);
    expect(await page.getByLabel('Scopes').getAttribute('aria-describedby')).toBe('token-scopes-error');
    expect(await page.getByLabel('Scopes').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#new-token-error').count()).toBe(0);
    expect(await page.getByLabel('Name').inputValue()).toBe('ci runner');
    expect(await page.getByLabel('Scopes').inputValue()).toBe('resource:repo');
    expect(await tokensOf('erin')).toEqual([]);

    await page.getByLabel('Scopes').fill('');
    await page.getByRole('radio', { name: /^Auto-refresh/ }).check();
    // Only the chosen model's fields are shown.
    expect(await page.getByLabel('90 days').isVisible()).toBe(false);
    await page.getByLabel('Unused for this long, it expires').selectOption('1d');
    await page.getByRole('button', { name: 'Generate token' }).click();
    const secret = (await page.locator('#new-token').textContent())!.trim();
    const answer = (await gw.introspect(secret)).body;
    expect(answer.active).toBe(true);
    expect(answer.exp - Math.floor(gw.clock.now / 1000)).toBeLessThanOrEqual(86400);
    expect(await page.locator('.facts').textContent()).toMatch(/auto-refresh/);
  });

  it('edits a description and revokes all of the user\'s tokens', async () => {
    const access = await gw.login('frank', 'frank-password');
    const secrets: string[] = [];
    for (const name of ['one', 'two']) {
      secrets.push((await gw.api('POST', '/api/v1/tokens', { token: access, body: { name } })).body.token);
    }
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'frank', 'frank-password');
    const row = page.locator('tr.token-row', { hasText: 'one' });
    await row.getByText('Edit description').click();
    await row.getByLabel('Description of one').fill('nightly backup');
    await row.getByRole('button', { name: 'Save description' }).click();
    await page.waitForURL(`${gw.url}/manage_tokens?done=described`);
    expect(await page.locator('tr.token-row', { hasText: 'one' }).locator('.description').textContent()).toBe('nightly backup');

    await page.getByRole('button', { name: 'Revoke all my tokens' }).click();
    // Every credential of frank ends, the API login and this browser's old session included.
    await page.waitForURL(`${gw.url}/manage_tokens?done=revoked-all&count=2&sessions=2&grants=0`);
    expect(await page.getByRole('status').textContent()).toBe('Revoked 2 tokens, 2 sessions and 0 app grants.');
    for (const secret of secrets) expect((await gw.introspect(secret)).body.active).toBe(false);
    expect((await gw.introspect(access)).body.active).toBe(false);
  });

  it('refuses a form posted from another origin, even though the browser sends the cookie', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'grace', 'grace-password');
    // Another port on 127.0.0.1 is another origin but the same site, so SameSite=Lax does not
    // keep the cookie back: the browser's Sec-Fetch-Site and the CSRF token must.
    const attacker: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><form id="f" method="post" action="${gw.url}/manage_tokens">
<input name="name" value="planted"><input name="expires" value="7d"><input name="_csrf" value="guessed"></form>
<script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    let refused;
    try {
      const port = (attacker.address() as AddressInfo).port;
      [refused] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${gw.url}/manage_tokens` && r.request().method() === 'POST'),
        page.goto(`http://127.0.0.1:${port}/`),
      ]);
      const sent = await refused.request().allHeaders();
      expect(sent.cookie).toMatch(/tessera_session=/);
      expect(sent['sec-fetch-site']).toBe('same-site');
    } finally {
      attacker.close();
    }
    expect(refused.status()).toBe(403);
    await page.waitForURL(`${gw.url}/manage_tokens`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Not allowed');
    expect(await tokensOf('grace')).toEqual([]);

    // Without an Origin header (some clients omit it), the missing CSRF token still refuses it.
    const cookie = await sessionCookie(page);
    const res = await fetch(`${gw.url}/manage_tokens`, {
      method: 'POST',
      headers: { cookie: `tessera_session=${cookie}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'planted', expires: '7d' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await tokensOf('grace')).toEqual([]);
  });
});
