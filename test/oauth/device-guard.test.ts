/**
 * Device flow (RFC 8628) hardening through the real HTTP app, with openid-client as the device:
 * user-code guessing limited per browser, per address and per gateway; `slow_down` while
 * pending; `expired_token` for an expired code; the approval page's facts; the CLI client
 * turned off or kept from admins; a code posted without the page's cookie.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [client.allowInsecureRequests] };

/** The verification page as seen from `ip` (the gateway trusts X-Forwarded-For in these tests). */
async function openPage(gw: TestGateway, ip: string) {
  const browser = new CookieBrowser();
  const page = await browser.request('GET', `${gw.url}/oauth2/device`, undefined, { 'x-forwarded-for': ip });
  let input = formFields(page.text, 'op.deviceInputForm');
  // Each answer carries a fresh anti-CSRF value: enter the next code into the form just shown.
  const enter = async (code: string) => {
    const answer = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: code }, { 'x-forwarded-for': ip });
    if (answer.text.includes('op.deviceInputForm')) input = formFields(answer.text, 'op.deviceInputForm');
    return answer;
  };
  return { browser, enter };
}

async function startDevice(gw: TestGateway, ip = '198.51.100.77') {
  const res = await fetch(`${gw.url}/oauth2/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, 'user-agent': 'evil-device/1.0' },
    body: new URLSearchParams({ client_id: 'tessera-cli', scope: 'openid offline_access' }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('device flow guards', () => {
  let gw: TestGateway;
  let cli: client.Configuration;

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        server: { trustProxy: true },
        oidc: { deviceCodeGuesses: { perBrowser: 3, perIp: 5, perGateway: 12, window: '15m' }, deviceCodeTtl: '3s' },
      },
    });
    cli = await client.discovery(new URL(gw.services.config.server.issuer!), 'tessera-cli', undefined, client.None(), insecure);
  });
  afterAll(() => gw?.stop());

  it('wrong user codes lock the browser, then the address, then the whole gateway; a locked page looks nothing up', async () => {
    const device = await startDevice(gw);
    const a = await openPage(gw, '203.0.113.1');
    for (let i = 0; i < 3; i++) {
      const miss = await a.enter('BCDF-GHJK');
      expect(miss.status).toBe(400);
      expect(miss.text).toContain('not valid or has expired');
    }
    const locked = await a.enter(device.body.user_code!);
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('Too many wrong codes');
    expect(locked.text).not.toContain(device.body.user_code!);

    // Same address, new browser: two more misses use up the address's five.
    const b = await openPage(gw, '203.0.113.1');
    expect((await b.enter('BCDF-GHJL')).status).toBe(400);
    expect((await b.enter('BCDF-GHJM')).status).toBe(400);
    expect((await b.enter(device.body.user_code!)).status).toBe(429);

    // Other addresses still work until the gateway has seen twelve misses in all.
    const c = await openPage(gw, '203.0.113.2');
    expect((await c.enter(device.body.user_code!)).text).toContain('Confirm the device');
    for (const ip of ['203.0.113.3', '203.0.113.4', '203.0.113.5']) {
      const guesser = await openPage(gw, ip);
      for (const code of ['BCDF-GHJN', 'BCDF-GHJP']) expect((await guesser.enter(code)).status).toBe(400);
    }
    expect((await (await openPage(gw, '203.0.113.6')).enter('BCDF-GHJQ')).status).toBe(400);
    const fresh = await openPage(gw, '203.0.113.7');
    const refused = await fresh.enter(device.body.user_code!);
    expect(refused.status).toBe(429);
    expect(refused.text).not.toContain(device.body.user_code!);
    // The counters are in the store (shared by every instance); reset them for the next tests.
    for (const key of ['device-miss:gateway', 'device-miss:ip:203.0.113.1']) await gw.services.store.deleteCounter(key);
  });

  it('the approval page says what is granted, to which client, from which address and when', async () => {
    const device = await startDevice(gw, '198.51.100.77');
    const page = await openPage(gw, '203.0.113.20');
    const confirm = await page.enter(device.body.user_code!);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('a full sign-in as you');
    expect(confirm.text).toContain('Tessera CLI (tessera-cli)');
    expect(confirm.text).toContain('198.51.100.77');
    expect(confirm.text).toContain('evil-device/1.0');
    expect(confirm.text).toMatch(/Requested at<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\)/);
  });

  it('polling again within the interval while pending answers slow_down; an expired code answers expired_token', async () => {
    const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid' });
    const first = await client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: device.device_code }).catch((e) => e);
    expect(first.error).toBe('authorization_pending');
    const second = await client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: device.device_code }).catch((e) => e);
    expect(second.error).toBe('slow_down');

    await new Promise((resolve) => setTimeout(resolve, 3500)); // the code's 3 s lifetime
    const expired = await client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: device.device_code }).catch((e) => e);
    expect(expired.error).toBe('expired_token');
  });

  it('a code posted without the page\'s cookie gets the page again (400), not a 500 with a stack in the log', async () => {
    const errors = vi.spyOn(console, 'error');
    const res = await fetch(`${gw.url}/oauth2/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'user_code=BCDF-GHJK&xsrf=x',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This form has expired');
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });
});

describe('the built-in CLI client by config', () => {
  it('oidc.cliClient: false — the device flow refuses tessera-cli as an unknown client', async () => {
    const gw = await startTestGateway({ config: { oidc: { cliClient: false } } });
    try {
      const res = await startDevice(gw);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    } finally {
      await gw.stop();
    }
  });

  it('oidc.cliClient: { admins: false } — an admin cannot approve a CLI login, a normal user can', async () => {
    const gw = await startTestGateway({ reachableIssuer: true, config: { oidc: { cliClient: { admins: false } } } });
    try {
      const admin = await gw.login('admin', ADMIN_PASSWORD);
      await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'nina', password: 'nina-password' } });
      const cli = await client.discovery(new URL(gw.services.config.server.issuer!), 'tessera-cli', undefined, client.None(), insecure);
      const approve = async (username: string, password: string) => {
        const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid' });
        const browser = new CookieBrowser();
        let page = await browser.get(device.verification_uri);
        const input = formFields(page.text, 'op.deviceInputForm');
        page = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: device.user_code });
        const confirm = formFields(page.text, 'op.deviceConfirmForm');
        page = await browser.follow(await browser.post(new URL(confirm.action, gw.url).toString(), confirm.fields), gw.url);
        const login = formFields(page.text, '/login');
        await browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username, password }), gw.url);
        return client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: device.device_code }).catch((e) => e);
      };
      const refused = await approve('admin', ADMIN_PASSWORD);
      expect(refused.access_token).toBeUndefined();
      expect(refused.error).toBe('access_denied');
      const allowed = await approve('nina', 'nina-password');
      expect(allowed.access_token).toBeTruthy();
      expect((await gw.api('GET', '/api/v1/me', { token: allowed.access_token })).body.username).toBe('nina');
    } finally {
      await gw.stop();
    }
  });
});
