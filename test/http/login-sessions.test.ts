/**
 * Running sign-ins, listed and signed out: over REST (the user's own and, for admins, anyone's),
 * on /account and the admin user page in Chromium, and with `tessera session list|revoke`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser } from '../cli/helpers.js';

vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

describe('login sessions', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let admin: string;

  const apiLogin = async (username: string, userAgent: string) =>
    (await gw.api('POST', '/api/v1/login', { headers: { 'user-agent': userAgent }, body: { username, password: `${username}-password` } })).body as { access_token: string; refresh_token: string };

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.login('admin', ADMIN_PASSWORD);
    for (const username of ['nina', 'omar', 'pia']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
  });
  afterAll(() => gw?.stop());

  it('a user lists their own sessions with kind, times, address and client, and signs one out', async () => {
    const laptop = await apiLogin('nina', 'tessera-cli/1.0');
    gw.clock.advance(60_000);
    const phone = await apiLogin('nina', 'curl/8.5.0');
    gw.clock.advance(60_000);
    const refreshed = (await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: laptop.refresh_token } })).body;
    const listed = await gw.api('GET', '/api/v1/me/sessions', { token: phone.access_token });
    expect(listed.status).toBe(200);
    expect(listed.body.sessions).toEqual([
      expect.objectContaining({ kind: 'api', user_agent: 'tessera-cli/1.0', ip: expect.any(String), source: 'local', current: false, last_refresh_at: new Date(gw.clock.now).toISOString() }),
      expect.objectContaining({ kind: 'api', user_agent: 'curl/8.5.0', current: true, last_refresh_at: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toMatch(/refresh_?hash|tsa_|tsrt_/i);

    const laptopId = listed.body.sessions[0].id;
    expect((await gw.api('DELETE', `/api/v1/me/sessions/${laptopId}`, { token: phone.access_token })).status).toBe(204);
    expect((await gw.api('GET', '/api/v1/me', { token: refreshed.access_token })).status).toBe(401);
    expect((await gw.api('GET', '/api/v1/me', { token: phone.access_token })).status).toBe(200);
    expect((await gw.api('DELETE', `/api/v1/me/sessions/${laptopId}`, { token: phone.access_token })).status).toBe(404);
    // Another user's session id is not found among mine.
    const omar = await apiLogin('omar', 'x');
    const omarId = (await gw.api('GET', '/api/v1/me/sessions', { token: omar.access_token })).body.sessions[0].id;
    expect((await gw.api('DELETE', `/api/v1/me/sessions/${omarId}`, { token: phone.access_token })).status).toBe(404);
    expect((await gw.api('GET', '/api/v1/me', { token: omar.access_token })).status).toBe(200);
  });

  it('a scoped token may list but not sign out; only admins see and end other users\' sessions', async () => {
    const own = await apiLogin('omar', 'y');
    const scoped = (await gw.api('POST', '/api/v1/tokens', { token: own.access_token, body: { name: 'scoped', scopes: 'read' } })).body.token;
    const mine = (await gw.api('GET', '/api/v1/me/sessions', { token: scoped })).body.sessions;
    expect(mine.length).toBeGreaterThan(0);
    const refused = await gw.api('DELETE', `/api/v1/me/sessions/${mine[0].id}`, { token: scoped });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('insufficient_scope');
    expect((await gw.api('GET', '/api/v1/users/omar/sessions', { token: own.access_token })).status).toBe(403);

    const theirs = (await gw.api('GET', '/api/v1/users/omar/sessions', { token: admin })).body.sessions as { id: string }[];
    expect(theirs.map((s) => s.id).sort()).toEqual(mine.map((s: { id: string }) => s.id).sort());
    for (const s of theirs) expect((await gw.api('DELETE', `/api/v1/users/omar/sessions/${s.id}`, { token: admin })).status).toBe(204);
    expect((await gw.api('GET', '/api/v1/me', { token: own.access_token })).status).toBe(401);
    expect((await gw.api('GET', '/api/v1/users/omar/sessions', { token: admin })).body.sessions).toEqual([]);
  });

  it('/account lists the browser\'s and other sign-ins; "Sign out" ends the chosen one (Chromium)', async () => {
    const other = await apiLogin('pia', 'pia-script/2.0');
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'pia', 'pia-password');
    await page.goto(`${gw.url}/account`);
    const rows = page.locator('tr.session-row');
    expect(await rows.count()).toBe(2);
    expect(await rows.filter({ hasText: 'this browser' }).count()).toBe(1);
    const api = rows.filter({ hasText: 'pia-script/2.0' });
    expect(await api.textContent()).toContain('API login');
    await api.getByRole('button', { name: /^Sign out API login/ }).click();
    await page.waitForURL(`${gw.url}/account`);
    expect(page.dialogs[0]).toMatch(/^Sign out this session \(API login from /);
    expect(await page.locator('tr.session-row').count()).toBe(1);
    expect((await gw.api('GET', '/api/v1/me', { token: other.access_token })).status).toBe(401);

    // The admin user page lists pia's browser session and signs it out; pia's page then asks her to sign in.
    const adminPage = await chromium.newPage();
    await signIn(adminPage, gw.url, 'admin', ADMIN_PASSWORD);
    await adminPage.goto(`${gw.url}/admin/users/pia`);
    const piaRows = adminPage.locator('tr.session-row');
    expect(await piaRows.count()).toBe(1);
    await piaRows.getByRole('button', { name: /^Sign out Browser/ }).click();
    await adminPage.waitForURL(`${gw.url}/admin/users/pia`);
    expect(await adminPage.locator('tr.session-row').count()).toBe(0);
    await page.goto(`${gw.url}/account`);
    expect(page.url()).not.toBe(`${gw.url}/account`);
  });

  it('tessera session list and revoke', async () => {
    const cli = cliUser();
    try {
      expect((await cli.run(['login', '--server', gw.url, '-u', 'nina', '--password-stdin'], { input: 'nina-password' })).code).toBe(0);
      const extra = await apiLogin('nina', 'other-device/1');
      const listed = await cli.run(['session', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const sessions = JSON.parse(listed.stdout).sessions as { id: string; user_agent: string }[];
      const target = sessions.find((s) => s.user_agent === 'other-device/1')!;
      expect((await cli.run(['session', 'list'])).stdout).toContain(target.id);
      const revoked = await cli.run(['session', 'revoke', target.id]);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect((await gw.api('GET', '/api/v1/me', { token: extra.access_token })).status).toBe(401);
    } finally {
      cli.dispose();
    }
  });
});
