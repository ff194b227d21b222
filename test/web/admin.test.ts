import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useChromium, type TestPage } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('the admin pages, /admin (Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['henry', 'irene']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  const post = async (page: TestPage, button: string) => {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: button }).click()]);
    await page.waitForLoadState();
    return response;
  };

  it('creates a user, keeps the form on a refusal (never the password), and generates a token for them', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.waitForURL(`${gw.url}/admin/users`);

    // A taken username: the error sits under the Username field; the form keeps all but the password.
    await page.getByLabel('Username').fill('henry');
    await page.getByLabel(/^Password/).fill('a-long-enough-password');
    await page.getByLabel(/^Display name/).fill('Henry Two');
    expect((await post(page, 'Create user')).status()).toBe(409);
    expect(await page.locator('#new-username + #new-username-error').textContent()).toMatch(/henry/);
    expect(await page.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Username').inputValue()).toBe('henry');
    expect(await page.getByLabel(/^Display name/).inputValue()).toBe('Henry Two');
    expect(await page.getByLabel(/^Password/).inputValue()).toBe('');

    await page.getByLabel('Username').fill('carol');
    await page.getByLabel(/^Password/).fill('carol-password');
    await page.getByLabel(/^Display name/).fill('Carol Jones');
    await post(page, 'Create user');
    expect(page.url()).toBe(`${gw.url}/admin/users/carol?done=user-created`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('carol');
    expect((await gw.login('carol', 'carol-password')).startsWith('tsa_')).toBe(true);

    await page.getByLabel(/^Name/).fill('deploy key');
    await page.getByLabel('7 days').check();
    expect((await post(page, 'Generate token')).status()).toBe(201);
    const secret = (await page.locator('#new-token').textContent())!.trim();
    expect(await page.locator('#new-token-label').textContent()).toBe('Token for carol');
    expect((await gw.introspect(secret)).body).toMatchObject({ active: true, username: 'carol' });

    // Back on carol's page the token is listed (created by admin) and the secret is gone.
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL(`${gw.url}/admin/users/carol`);
    expect(await page.content()).not.toContain(secret);
    expect(await page.locator('tr.token-row', { hasText: 'deploy key' }).textContent()).toContain('by admin');
    await page.goto(`${gw.url}/admin/users?q=carol`);
    expect(await page.locator('table.users tbody tr').count()).toBe(1);
    expect(await page.locator('table.users td[data-label="Active tokens"]').textContent()).toBe('1');
  });

  it('disables and enables a user, resets a password, and revokes their tokens one by one or all', async () => {
    const henry = await gw.personalToken('henry', 'henry-password');
    const access = await gw.login('henry', 'henry-password');
    const second = (await gw.api('POST', '/api/v1/tokens', { token: access, body: { name: 'second' } })).body.token as string;
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${gw.url}/admin/users/henry`);

    await post(page, 'Disable account');
    expect(page.dialogs[0]).toMatch(/^Disable henry\?/);
    expect(await page.getByRole('status').textContent()).toMatch(/disabled/);
    expect((await gw.introspect(henry)).body.active).toBe(false);
    await post(page, 'Enable account');
    expect((await gw.introspect(henry)).body.active).toBe(true);

    await page.getByLabel('New password').fill('short');
    await page.getByLabel('New password').evaluate((input) => input.removeAttribute('minlength'));
    expect((await post(page, 'Reset password')).status()).toBe(400);
    expect(await page.locator('#password-error').textContent()).toMatch(/at least 8 characters/);
    await page.getByLabel('New password').fill('henry-new-password');
    await post(page, 'Reset password');
    expect((await gw.login('henry', 'henry-new-password')).startsWith('tsa_')).toBe(true);

    await post(page, 'Revoke second');
    expect(page.url()).toBe(`${gw.url}/admin/users/henry?done=revoked`);
    expect((await gw.introspect(second)).body.active).toBe(false);
    expect((await gw.introspect(henry)).body.active).toBe(true);
    await post(page, 'Revoke all tokens of henry');
    expect(await page.getByRole('status').textContent()).toMatch(/^Revoked 1 token, \d+ sessions? and 0 app grants\.$/);
    expect((await gw.introspect(henry)).body.active).toBe(false);
  });

  it('deletes a user only after the browser confirms, then lists them no more', async () => {
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'jules', password: 'jules-password' } })).status).toBe(201);
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${gw.url}/admin/users/jules`);
    await post(page, 'Delete user jules');
    expect(page.dialogs).toEqual(['Delete user jules and revoke all their tokens? This cannot be undone.']);
    expect(page.url()).toBe(`${gw.url}/admin/users?done=user-deleted`);
    expect(await page.getByRole('status').textContent()).toContain('The user was deleted');
    expect(await page.getByRole('link', { name: 'jules' }).count()).toBe(0);
    expect(await gw.services.store.findUserByName('jules')).toBeNull();
  });

  it('revokes every token of every user only after the admin types revoke-all', async () => {
    const secrets = [await gw.personalToken('irene', 'irene-password'), await gw.personalToken('carol', 'carol-password'), admin];
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${gw.url}/admin/users`);
    await page.getByRole('link', { name: 'revoke every token of every user' }).click();
    await page.waitForURL(`${gw.url}/admin/revoke-all`);

    await page.getByLabel(/To confirm, type/).fill('revoke all');
    expect((await post(page, 'Revoke every token')).status()).toBe(400);
    expect(await page.locator('#confirm-error').textContent()).toMatch(/Nothing was revoked/);
    for (const secret of secrets) expect((await gw.introspect(secret)).body.active).toBe(true);

    await page.getByLabel(/To confirm, type/).fill('revoke-all');
    await post(page, 'Revoke every token');
    expect(page.url()).toMatch(/\/admin\/revoke-all\?done=revoked-everything&tokens=\d+&users=4&sessions=\d+&grants=\d+$/);
    expect(await page.getByRole('status').textContent()).toMatch(/^Revoked \d+ tokens, \d+ sessions and \d+ app grants? of 4 users\.$/);
    for (const secret of secrets) expect((await gw.introspect(secret)).body.active).toBe(false);
    // The page counts nothing itself (that would read every user's tokens per visit); the outcome is in the notice.
    expect(await page.locator('.danger-zone p').first().textContent()).toMatch(/^This revokes every active token of every user\./);
  });
});
