/**
 * Sign-in through an upstream OpenID Provider nobody here wrote: node-oidc-provider, standalone
 * on loopback, with its own login and consent pages, driven in a real browser (Chromium). The
 * web sign-in ends with a PAT that introspects; the OIDC login interaction (an RP of Tessera,
 * and so `tessera login --sso`) signs in through the upstream too; a group change upstream is
 * the new role at the next sign-in; a user removed upstream loses access at re-validation.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcSource } from '../../../src/identity/oidc/oidc-source.js';
import { launchChromium } from '../../helpers/chromium.js';
import { CLIENT, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type Upstream } from '../../helpers/oidc-upstream.js';
import { freePort } from '../../helpers/redis-server.js';

// Never reached: the test only watches the browser set off to it.
const WEB = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'http://app.example.test/callback' };

describe('upstream OpenID Connect in a real browser', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    upstream = await startUpstream({ redirectUris: [`${base}/sso/corp/callback`, `${base}/sso/partners/callback`] });
    const common = { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: upstream.clientSecret, scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'] };
    gw = await startTestGateway({
      config: {
        server: { port, host: '127.0.0.1', issuer: base },
        clients: [{ id: WEB.id, secret: WEB.secret, name: 'Web App', redirectUris: [WEB.redirect], firstParty: true }, { ...CLIENT, resourceServer: true }],
        openidConnect: [
          { id: 'corp', displayName: 'Corp SSO', ...common, roleMapping: { admin: ['tessera-admins'] }, revalidateInterval: 0 },
          { id: 'partners', displayName: 'Partner SSO', ...common, allowedDomains: ['example.org'] },
        ],
      },
    });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await upstream?.close();
  });

  const corp = () => gw.services.sources.find((s) => s.id === 'corp') as OidcSource;

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    // The upstream's stock pages load a web font; nothing here may leave the machine.
    await context.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname) && url.hostname !== 'app.example.test', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return { context, page };
  }

  /** The upstream's own login and consent pages, as a person fills them in. */
  async function signInUpstream(page: Page, login: string): Promise<void> {
    await page.waitForURL((url) => url.host === new URL(upstream.issuer).host, { waitUntil: 'domcontentloaded' });
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any-password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  async function webSignIn(login: string): Promise<{ context: BrowserContext; page: Page }> {
    const { context, page } = await newPage();
    await page.goto(`${gw.url}/login?return=/manage_tokens`);
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInUpstream(page, login);
    await page.waitForURL(`${gw.url}/manage_tokens`);
    return { context, page };
  }

  async function makeToken(page: Page, name: string): Promise<string> {
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Generate token' }).click();
    return (await page.locator('#new-token').textContent())!.trim();
  }

  it('web sign-in: the upstream login, then a PAT made on the token page introspects with the source; groups map to the role', async () => {
    upstream.users.set('alice', { name: 'Alice Upstream', email: 'alice@example.org', email_verified: true, groups: ['Tessera-Admins', 'dev'] });
    const { context, page } = await webSignIn('alice');
    const secret = await makeToken(page, 'sso laptop');
    expect(secret).toMatch(/^tsr_/);
    expect((await gw.introspect(secret)).body).toMatchObject({ active: true, username: 'alice', user_source: 'corp' });
    // Group names compare case-insensitively: Tessera-Admins is the mapped tessera-admins.
    expect(await gw.services.users.get('alice')).toMatchObject({ source: 'corp', role: 'admin', displayName: 'Alice Upstream', email: 'alice@example.org', groups: ['Tessera-Admins', 'dev'] });
    expect(gw.auditLines.some((e) => e.type === 'sso.signed_in' && e.source === 'corp' && e.actor?.username === 'alice')).toBe(true);
    expect(await gw.services.metrics.registry.metrics()).toMatch(/tessera_identity_source_up\{kind="openidConnect",source="corp"\} 1/);
    // No secret of the upstream sign-in in the audit trail.
    expect(JSON.stringify(gw.auditLines)).not.toMatch(/refresh_token|id_token|code_verifier/);
    await context.close();
  });

  it('a group change upstream is the new role at the next sign-in', async () => {
    upstream.users.set('alice', { name: 'Alice Upstream', email: 'alice@example.org', email_verified: true, groups: ['dev'] });
    const { context } = await webSignIn('alice');
    expect(await gw.services.users.get('alice')).toMatchObject({ role: 'normal', groups: ['dev'] });
    await context.close();
  });

  it('a user removed upstream loses access at re-validation (their refresh token is refused)', async () => {
    upstream.users.set('bob', { name: 'Bob', groups: [] });
    const { context, page } = await webSignIn('bob');
    const secret = await makeToken(page, 'bob ci');
    // Still there upstream: re-validation changes nothing.
    expect(await corp().revalidator.runOnce()).toMatchObject({ disabled: [] });
    expect((await gw.introspect(secret)).body).toMatchObject({ active: true, username: 'bob' });
    upstream.users.delete('bob');
    expect((await corp().revalidator.runOnce()).disabled).toEqual(['bob']);
    expect(await gw.services.users.get('bob')).toMatchObject({ enabled: false });
    // Recorded under the type every source kind shares, naming this source and its kind.
    const events = (await gw.services.store.auditRead({ count: 200 })).map((e) => JSON.parse(e.event));
    expect(events.find((e) => e.type === 'user.disabled_by_revalidation' && e.target?.username === 'bob' && e.outcome === 'succeeded')).toMatchObject({ source: 'corp', details: { sourceKind: 'openidConnect' } });
    expect((await gw.introspect(secret)).body).toEqual({ active: false });
    await context.close();

    // Back upstream: the sign-in is refused (disabled), but leaves a refresh token that the next
    // round redeems, which re-enables the user.
    upstream.users.set('bob', { name: 'Bob', groups: [] });
    const again = await newPage();
    await again.page.goto(`${gw.url}/login`);
    await again.page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInUpstream(again.page, 'bob');
    await expect.poll(() => again.page.locator('#sign-in-error').textContent(), { timeout: 20_000 }).toContain('this account is disabled in Tessera');
    expect((await corp().revalidator.runOnce()).enabled).toEqual(['bob']);
    expect(await gw.services.users.get('bob')).toMatchObject({ enabled: true });
    await again.context.close();
  });

  it('OIDC login: an RP of Tessera signs in through the upstream and receives a code', async () => {
    upstream.users.set('carol', { name: 'Carol', groups: [] });
    const { context, page } = await newPage();
    const authorize = `${gw.url}/oauth2/authorize?${new URLSearchParams({ client_id: WEB.id, response_type: 'code', scope: 'openid', redirect_uri: WEB.redirect, state: 'st4te', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    await page.goto(authorize);
    const toApp = page.waitForRequest((request) => request.url().startsWith(WEB.redirect), { timeout: 30_000 });
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInUpstream(page, 'carol');
    const callback = new URL((await toApp).url());
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe('st4te');
    expect(await gw.services.users.get('carol')).toMatchObject({ source: 'corp' });
    await context.close();
  });

  it('tessera login --sso: the device flow signs in through the upstream, and the CLI gets tokens for that user', async () => {
    upstream.users.set('dora', { name: 'Dora', groups: [] });
    const cli = await client.discovery(new URL(gw.url), 'tessera-cli', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid profile offline_access' });
    const { context, page } = await newPage();
    await page.goto(device.verification_uri);
    await page.locator('input[name=user_code]').fill(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInUpstream(page, 'dora');
    await expect.poll(() => page.textContent('body'), { timeout: 20_000 }).toContain('Device connected');
    const tokens = await client.genericGrantRequest(cli, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: device.device_code });
    expect((await gw.api('GET', '/api/v1/me', { token: tokens.access_token })).body).toMatchObject({ username: 'dora', authenticated_with: 'sso_login' });
    await context.close();
  });

  it('an account of a domain the source does not allow is refused, and no user is made', async () => {
    upstream.users.set('mallory', { name: 'Mallory', email: 'mallory@evil.test', email_verified: true });
    const { context, page } = await newPage();
    await page.goto(`${gw.url}/login`);
    await page.getByRole('link', { name: 'Sign in with Partner SSO' }).click();
    await signInUpstream(page, 'mallory');
    await expect.poll(() => page.locator('#sign-in-error').textContent(), { timeout: 20_000 }).toContain('accounts of evil.test may not sign in here');
    await expect(gw.services.users.get('mallory')).rejects.toThrow();
    expect(gw.auditLines.some((e) => e.type === 'sso.rejected' && e.source === 'partners')).toBe(true);
    await context.close();
  });
});
