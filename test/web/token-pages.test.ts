/**
 * /manage_tokens and the admin's page for one user, by page (Chromium): a user with more tokens
 * than one page holds gets a "Next page" link that keeps the filters and shows the rest, each
 * token once; revoked ones only when asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { USER_TOKENS_PER_PAGE } from '../../src/web/routes/admin-users.js';

describe('the token page in pages (Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  const made: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 200 } } });
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'paula', password: 'paula-password' } })).status).toBe(201);
    for (let i = 0; i < 104; i++) {
      gw.clock.advance(1);
      const created = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: `job ${i}`, user: 'paula' } });
      expect(created.status).toBe(201);
      made.push(created.body.id);
    }
    expect((await gw.api('DELETE', `/api/v1/tokens/${made[0]}`, { token: admin })).status).toBe(200);
  }, 120_000);
  afterAll(() => gw?.stop());

  it('shows 100 tokens, then the rest behind "Next page", revoked ones only when asked', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'paula', 'paula-password');
    await page.goto(`${gw.url}/manage_tokens`);
    const ids = async () => (await page.locator('tr.token-row').evaluateAll((rows) => rows.map((r) => r.id.replace(/^token-/, ''))));
    const first = await ids();
    expect(first).toHaveLength(100);
    await page.getByRole('link', { name: 'Next page' }).click();
    const second = await ids();
    // 103 active tokens made here, plus the one the sign-in may have made: none twice, none missing.
    expect(new Set([...first, ...second]).size).toBe(first.length + second.length);
    expect([...first, ...second]).toEqual(expect.arrayContaining(made.slice(1)));
    expect([...first, ...second]).not.toContain(made[0]);
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);

    await page.goto(`${gw.url}/manage_tokens?revoked=1`);
    await page.getByRole('link', { name: 'Next page' }).click();
    expect(page.url()).toContain('revoked=1');
    expect(await ids()).toContain(made[0]);
  });

  it('the admin page of that user pages the same way: every token once, revoked ones only when asked', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${gw.url}/admin/users/paula`);
    const ids = async () => (await page.locator('tr.token-row').evaluateAll((rows) => rows.map((r) => r.id.replace(/^token-/, ''))));
    const first = await ids();
    expect(first).toHaveLength(USER_TOKENS_PER_PAGE);
    // More than this page: the heading does not claim a total.
    await expect.poll(() => page.locator('#list-heading').textContent()).toContain(`${USER_TOKENS_PER_PAGE}+ active`);
    await page.getByRole('link', { name: 'Next page' }).click();
    expect(page.url()).toContain('cursor=');
    const second = await ids();
    const seen = [...first, ...second];
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(made.slice(1)));
    expect(seen).not.toContain(made[0]);
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);

    // The revoked one behind the filter, on a later page, the filter kept by "Next page".
    await page.goto(`${gw.url}/admin/users/paula`);
    await page.getByLabel('Show revoked').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/revoked=1/);
    const withRevoked: string[] = await ids();
    while ((await page.getByRole('link', { name: 'Next page' }).count()) > 0) {
      await page.getByRole('link', { name: 'Next page' }).click();
      expect(page.url()).toContain('revoked=1');
      withRevoked.push(...(await ids()));
    }
    expect(withRevoked).toContain(made[0]);
    expect(new Set(withRevoked).size).toBe(withRevoked.length);
    expect(withRevoked).toEqual(expect.arrayContaining(made));
  });
});
