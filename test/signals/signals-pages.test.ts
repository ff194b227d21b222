/**
 * The signals on the web pages (Chromium): the expiry banner on /manage_tokens and the webhook
 * delivery log on /admin/webhooks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('signals on the web pages (Chromium)', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let sink: Server;
  let admin: string;

  beforeAll(async () => {
    sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const port = (sink.address() as AddressInfo).port;
    gw = await startTestGateway({ config: { webhooks: [{ id: 'audit-sink', url: `http://127.0.0.1:${port}/`, secret: 'a-webhook-secret-of-enough-length' }] } });
    admin = await gw.login('admin', ADMIN_PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await new Promise((resolve) => sink?.close(resolve));
  });

  it('warns on /manage_tokens about a token that expires within the notice thresholds', async () => {
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'nina', password: 'nina-password' } });
    const access = await gw.login('nina', 'nina-password');
    expect((await gw.api('POST', '/api/v1/tokens', { token: access, body: { name: 'nightly build', expires_in: '3d' } })).status).toBe(201);
    expect((await gw.api('POST', '/api/v1/tokens', { token: access, body: { name: 'long lived', expires_in: '90d' } })).status).toBe(201);
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'nina', 'nina-password');
    const banner = page.locator('[data-expiry-banner]');
    expect(await banner.textContent()).toContain('nightly build');
    expect(await banner.textContent()).not.toContain('long lived');
  });

  it('shows each webhook endpoint with its deliveries to admins', async () => {
    // nina's two token creations were delivered (credential-change).
    const deadline = Date.now() + 20_000;
    while ((await gw.api('GET', '/api/v1/admin/webhooks/audit-sink/deliveries', { token: admin })).body.deliveries.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${gw.url}/admin/webhooks`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Webhooks');
    const table = page.locator('table.deliveries');
    expect(await table.locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    expect(await table.textContent()).toContain('delivered');
    expect(await page.content()).not.toContain('a-webhook-secret-of-enough-length');
  });
});
