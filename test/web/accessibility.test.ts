/**
 * Accessibility of the pages, scanned by axe-core in Chromium (WCAG 2.1 A and AA rules), signed
 * out and signed in as an admin: sign-in, the API reference (reached from the navigation), the
 * token pages, the account page and the admin pages. axe is injected through the DevTools
 * protocol (page.evaluate), so the pages keep their strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe's violations on the page now, as `rule: selectors` lines (empty when it passes). */
async function violations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return found;
}

describe('accessibility (axe-core, Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: 'alice-password' } })).status).toBe(201);
    expect((await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'ci job', user: 'alice' } })).status).toBe(201);
  }, 60_000);
  afterAll(() => gw?.stop());

  it('signed out: the sign-in page and the API reference', async () => {
    const page = await chromium.newPage();
    for (const path of ['/login', '/docs/api']) {
      await page.goto(`${gw.url}${path}`);
      expect(await violations(page), path).toEqual([]);
    }
  });

  it('signed in as an admin: the API reference is in the navigation, and every page passes', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' }).click();
    await page.waitForURL(`${gw.url}/docs/api`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toMatch(/API/);
    for (const path of ['/docs/api', '/manage_tokens', '/account', '/admin/users', '/admin/users/alice', '/admin/audit']) {
      await page.goto(`${gw.url}${path}`);
      expect(await violations(page), path).toEqual([]);
    }
  });
});
