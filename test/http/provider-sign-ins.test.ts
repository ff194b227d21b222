/**
 * Sign-ins through Tessera's OpenID Provider in the user's list of running sign-ins: a relying
 * party (authorization code + PKCE, openid-client as the client) and the CLI's SSO login (device
 * flow). Listed over REST with client, scopes and times; signed out over REST, on /account in
 * Chromium and with `tessera session revoke`; a signed-out grant's refresh token stops working.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser } from '../cli/helpers.js';

vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

const NOTEBOOK = { id: 'notebooks', name: 'Team notebooks', secret: 'notebooks-secret-0123456789abcdef', redirect: 'http://127.0.0.1:9/notebooks' };
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [client.allowInsecureRequests] };

interface Listed {
  id: string;
  kind: string;
  client_id?: string;
  client_name?: string;
  scopes?: string[];
  created_at: string;
  last_refresh_at: string | null;
  ip: string | null;
}

describe('provider sign-ins in the list of running sign-ins', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let admin: string;
  let notebooks: client.Configuration;
  let cli: client.Configuration;

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: { clients: [{ id: NOTEBOOK.id, name: NOTEBOOK.name, secret: NOTEBOOK.secret, redirectUris: [NOTEBOOK.redirect], firstParty: true }, { ...CLIENT, resourceServer: true }] },
    });
    admin = await gw.login('admin', ADMIN_PASSWORD);
    for (const username of ['rosa', 'sven']) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } })).status).toBe(201);
    }
    const issuer = new URL(gw.services.config.server.issuer!);
    notebooks = await client.discovery(issuer, NOTEBOOK.id, NOTEBOOK.secret, undefined, insecure);
    cli = await client.discovery(issuer, 'tessera-cli', undefined, client.None(), insecure);
  });
  afterAll(() => gw?.stop());

  async function passwordStep(browser: CookieBrowser, page: { text: string }, username: string) {
    const login = formFields(page.text, '/login');
    return browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username, password: `${username}-password` }), gw.url);
  }

  /** The notebooks app signs the user in: authorization code + PKCE, with a refresh token. */
  async function relyingParty(username: string): Promise<client.TokenEndpointResponse> {
    const browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(notebooks, {
      redirect_uri: NOTEBOOK.redirect,
      scope: 'openid profile offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent', // oidc-provider issues a refresh token for offline_access only then
    });
    let page = await passwordStep(browser, await browser.follow(await browser.get(url.toString()), gw.url), username);
    if (page.status === 200 && page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { ...consent.fields, decision: 'allow' }), gw.url);
    }
    expect(page.location, page.text.slice(0, 300)).toMatch(/^http:\/\/127\.0\.0\.1:9\/notebooks/);
    return client.authorizationCodeGrant(notebooks, new URL(page.location!), { pkceCodeVerifier: verifier, idTokenExpected: true });
  }

  /** `tessera login --sso`'s device flow, approved in a browser. */
  async function cliSso(username: string): Promise<client.TokenEndpointResponse> {
    const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid offline_access' });
    const browser = new CookieBrowser();
    let page = await browser.get(device.verification_uri);
    const input = formFields(page.text, 'op.deviceInputForm');
    page = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: device.user_code });
    const confirm = formFields(page.text, 'op.deviceConfirmForm');
    page = await passwordStep(browser, await browser.follow(await browser.post(new URL(confirm.action, gw.url).toString(), confirm.fields), gw.url), username);
    expect(page.text).toContain('Device connected');
    return client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: device.device_code });
  }

  const refreshes = (config: client.Configuration, refresh: string) => client.refreshTokenGrant(config, refresh).then(() => true, () => false);
  const listOf = async (token: string, path = '/api/v1/me/sessions') => {
    const res = await gw.api('GET', path, { token });
    expect(res.status).toBe(200);
    return res.body.sessions as Listed[];
  };

  it('lists the relying party and the CLI SSO login with client, scopes and last refresh; signing one out kills its refresh token', async () => {
    const login = await gw.login('rosa', 'rosa-password');
    const app = await relyingParty('rosa');
    const sso = await cliSso('rosa');
    const theirs = await relyingParty('sven');

    let listed = await listOf(login);
    expect(listed.map((s) => s.kind).sort()).toEqual(['api', 'oidc-client', 'sso']);
    const appRow = listed.find((s) => s.kind === 'oidc-client')!;
    expect(appRow).toMatchObject({ client_id: NOTEBOOK.id, client_name: NOTEBOOK.name, ip: null, last_refresh_at: null });
    expect(appRow.scopes).toEqual(expect.arrayContaining(['openid', 'profile', 'offline_access']));
    expect(listed.find((s) => s.kind === 'sso')).toMatchObject({ client_id: 'tessera-cli', client_name: 'Tessera CLI' });
    expect(JSON.stringify(listed)).not.toContain(app.refresh_token!);

    // A refresh through the provider shows as the grant's last refresh.
    const refreshed = await client.refreshTokenGrant(notebooks, app.refresh_token!);
    listed = await listOf(login);
    expect(listed.find((s) => s.id === appRow.id)!.last_refresh_at).not.toBeNull();

    // Another user cannot end it; the owner can, and then its tokens are dead.
    const svenLogin = await gw.login('sven', 'sven-password');
    expect((await gw.api('DELETE', `/api/v1/me/sessions/${appRow.id}`, { token: svenLogin })).status).toBe(404);
    expect((await gw.api('DELETE', `/api/v1/me/sessions/${appRow.id}`, { token: login })).status).toBe(204);
    expect(await refreshes(notebooks, refreshed.refresh_token!)).toBe(false);
    expect((await client.tokenIntrospection(notebooks, refreshed.access_token)).active).toBe(false);
    expect((await listOf(login)).map((s) => s.kind).sort()).toEqual(['api', 'sso']);
    expect((await gw.api('DELETE', `/api/v1/me/sessions/${appRow.id}`, { token: login })).status).toBe(404);
    // The CLI's SSO login and the other user's grant are untouched.
    expect(await refreshes(cli, sso.refresh_token!)).toBe(true);
    expect(await refreshes(notebooks, theirs.refresh_token!)).toBe(true);

    const events = (await gw.api('GET', '/api/v1/audit?type=oidc.grant_revoked', { token: admin })).body.events as { target: { clientId?: string }; details: { grantId?: string }; outcome: string }[];
    expect(events).toContainEqual(expect.objectContaining({ outcome: 'succeeded', target: expect.objectContaining({ clientId: NOTEBOOK.id }), details: expect.objectContaining({ grantId: appRow.id }) }));
  });

  it('admins see and end another user\'s provider sign-ins', async () => {
    const sso = await cliSso('sven');
    const listed = await listOf(admin, '/api/v1/users/sven/sessions');
    const row = listed.find((s) => s.kind === 'sso')!;
    expect(row).toBeDefined();
    expect((await gw.api('DELETE', `/api/v1/users/sven/sessions/${row.id}`, { token: admin })).status).toBe(204);
    expect(await refreshes(cli, sso.refresh_token!)).toBe(false);
    expect((await gw.api('GET', '/api/v1/me', { token: sso.access_token })).status).toBe(401);
  });

  it('/account lists the application and signs it out (Chromium); tessera session revoke ends an SSO login', async () => {
    const app = await relyingParty('rosa');
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'rosa', 'rosa-password');
    await page.goto(`${gw.url}/account`);
    const row = page.locator('tr.session-row[data-kind="oidc-client"]');
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(NOTEBOOK.name);
    await row.getByRole('button', { name: `Sign out Application ${NOTEBOOK.name}`, exact: false }).click();
    await page.waitForURL(`${gw.url}/account`);
    expect(page.dialogs[0]).toBe(`Sign out this session (Application ${NOTEBOOK.name})?`);
    expect(await page.locator('tr.session-row[data-kind="oidc-client"]').count()).toBe(0);
    expect(await refreshes(notebooks, app.refresh_token!)).toBe(false);

    const before = new Set((await listOf(admin, '/api/v1/users/rosa/sessions')).map((s) => s.id));
    const sso = await cliSso('rosa');
    const cliUserHome = cliUser();
    try {
      expect((await cliUserHome.run(['login', '--server', gw.url, '-u', 'rosa', '--password-stdin'], { input: 'rosa-password' })).code).toBe(0);
      const listed = await cliUserHome.run(['session', 'list']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/sso .*Tessera CLI/);
      const id = (JSON.parse((await cliUserHome.run(['session', 'list', '--json'])).stdout).sessions as Listed[]).find((s) => s.kind === 'sso' && !before.has(s.id))!.id;
      const revoked = await cliUserHome.run(['session', 'revoke', id]);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(await refreshes(cli, sso.refresh_token!)).toBe(false);
    } finally {
      cliUserHome.dispose();
    }
  });
});
