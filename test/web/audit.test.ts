/**
 * The audit trail in the browser (Chromium): actions on the web pages are recorded with the
 * signed-in admin as actor; /admin/audit lists and filters them; /account shows the user's own
 * "Security log"; signing out is recorded too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('audit pages (Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  const events = async (query: string) => (await gw.api('GET', `/api/v1/audit?${query}`, { token: admin })).body.events as any[];

  it('records what an admin does on the pages, and /admin/audit lists and filters it', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${gw.url}/admin/users`);
    await page.getByLabel('Username').fill('webuser');
    await page.getByLabel(/^Password/).fill('webuser-password');
    await Promise.all([page.waitForURL(/\/admin\/users\/webuser/), page.getByRole('button', { name: 'Create user' }).click()]);

    const [created] = await events('type=user.created&user=webuser');
    expect(created).toMatchObject({ outcome: 'succeeded', actor: { username: 'admin', credential: 'session' }, ip: '127.0.0.1', userAgent: expect.stringContaining('Chrome') });
    const [webLogin] = await events('type=login.succeeded&actor=admin');
    expect(webLogin).toMatchObject({ source: 'local', ip: '127.0.0.1' });

    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.waitForURL(`${gw.url}/admin/audit`);
    const table = page.locator('table.audit');
    expect(await table.textContent()).toContain('user.created');
    expect(await table.textContent()).toContain('webuser');

    await page.getByLabel('Type').fill('login.');
    await Promise.all([page.waitForURL(/type=login\./), page.getByRole('button', { name: 'Filter' }).click()]);
    const types = await page.locator('table.audit tbody td[data-label="Event"] code').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((t) => t.startsWith('login.'))).toBe(true);
    expect(await page.getByLabel('Type').inputValue()).toBe('login.');

    await page.goto(`${gw.url}/admin/audit?since=yesterday`);
    expect(await page.getByRole('alert').textContent()).toMatch(/^Since must be an ISO 8601 time/);
  });

  it('shows a user their security log on /account, and records the sign-out', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'webuser', 'webuser-password');
    await page.goto(`${gw.url}/account`);
    const log = page.locator('section', { has: page.getByRole('heading', { name: 'Security log' }) });
    const text = (await log.textContent())!;
    expect(text).toContain('login.succeeded');
    expect(text).toContain('user.created');
    expect(text).not.toContain('keys.rotated');

    // Not for non-admins.
    expect((await page.goto(`${gw.url}/admin/audit`))!.status()).toBe(403);

    await page.goto(`${gw.url}/account`);
    await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: 'Sign out' }).first().click()]);
    const [logout] = await events('type=logout&actor=webuser');
    expect(logout).toMatchObject({ outcome: 'succeeded', actor: { credential: 'session' }, ip: '127.0.0.1' });
  });
});
