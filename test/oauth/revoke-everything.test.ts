/**
 * "Revoke all of a user's tokens" and the emergency switch end every credential kind the gateway
 * issues, through the real HTTP app with openid-client as the OAuth client: PATs, API logins
 * (access + refresh), browser sessions, provider grants (opaque access, refresh, JWT access
 * tokens), the CLI's SSO login and an approved device code not yet exchanged.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const FIRST = { id: 'first-party', secret: 'first-party-secret-0123456789abc', redirect: 'http://127.0.0.1:9/first' };
const SERVICE = { id: 'batch-service', secret: 'batch-service-secret-0123456789ab' };
const JOBS = { id: 'jobs-api', secret: 'jobs-api-secret-0123456789abcdefg' };
const JWT_RESOURCE = 'https://jobs.example.org';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [client.allowInsecureRequests] };

interface Credentials {
  pat: string;
  access: string;
  refresh: string;
  browser: CookieBrowser;
  oidc: client.TokenEndpointResponse;
  jwt: string;
  sso: client.TokenEndpointResponse;
  /** An approved device code whose tokens were never fetched. */
  pendingDevice: string;
}

describe('ending every credential', () => {
  let gw: TestGateway;
  let admin: string;
  let first: client.Configuration;
  let cli: client.Configuration;
  let jobs: client.Configuration;
  /** oidc-provider stamps `iat` from the real clock in whole seconds: keep the gateway's in step. */
  const sync = () => (gw.clock.now = Date.now());
  const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [
          { id: FIRST.id, secret: FIRST.secret, redirectUris: [FIRST.redirect], firstParty: true, allowedResources: [JWT_RESOURCE], allowedScopes: ['jobs:submit'] },
          { id: SERVICE.id, secret: SERVICE.secret, grantTypes: ['client_credentials'], allowedResources: [JWT_RESOURCE], allowedScopes: ['jobs:submit'] },
          { id: JOBS.id, secret: JOBS.secret, resourceServer: true, resources: [JWT_RESOURCE] },
          { ...CLIENT, resourceServer: true },
        ],
        resources: [{ indicator: JWT_RESOURCE, scopes: ['jobs:submit'], accessTokenFormat: 'jwt' }],
      },
    });
    sync();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['olivia', 'paul']) {
      await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } });
    }
    const issuer = new URL(gw.services.config.server.issuer!);
    first = await client.discovery(issuer, FIRST.id, FIRST.secret, undefined, insecure);
    cli = await client.discovery(issuer, 'tessera-cli', undefined, client.None(), insecure);
    jobs = await client.discovery(issuer, JOBS.id, JOBS.secret, undefined, insecure);
  });
  afterAll(() => gw?.stop());

  async function signInPage(browser: CookieBrowser, start: string, username: string) {
    let page = await browser.follow(await browser.get(start), gw.url);
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username, password: `${username}-password` }), gw.url);
    return page;
  }

  /** Authorization code + PKCE for the first-party client, with a JWT access token for the jobs API. */
  async function codeFlow(username: string) {
    const browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(first, {
      redirect_uri: FIRST.redirect,
      scope: 'openid offline_access jobs:submit',
      resource: JWT_RESOURCE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent', // oidc-provider issues a refresh token for offline_access only then
    });
    let page = await signInPage(browser, url.toString(), username);
    if (page.status === 200 && page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { ...consent.fields, decision: 'allow' }), gw.url);
    }
    expect(page.location, page.text.slice(0, 300)).toMatch(/^http:\/\/127\.0\.0\.1:9\/first/);
    return client.authorizationCodeGrant(first, new URL(page.location!), { pkceCodeVerifier: verifier, idTokenExpected: true });
  }

  /** Device flow for the CLI: approved in the browser; `fetch` false leaves the code unexchanged. */
  async function deviceFlow(username: string, fetchTokens: boolean) {
    const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid offline_access' });
    const browser = new CookieBrowser();
    let page = await browser.get(device.verification_uri);
    const input = formFields(page.text, 'op.deviceInputForm');
    page = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: device.user_code });
    const confirm = formFields(page.text, 'op.deviceConfirmForm');
    page = await browser.follow(await browser.post(new URL(confirm.action, gw.url).toString(), confirm.fields), gw.url);
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username, password: `${username}-password` }), gw.url);
    expect(page.text).toContain('Device connected');
    return { code: device.device_code, tokens: fetchTokens ? await client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: device.device_code }) : undefined };
  }

  async function issueAll(username: string): Promise<Credentials> {
    const login = await gw.api('POST', '/api/v1/login', { body: { username, password: `${username}-password` } });
    const pat = (await gw.api('POST', '/api/v1/tokens', { token: login.body.access_token, body: { name: 'everything' } })).body.token;
    const browser = new CookieBrowser();
    await signInPage(browser, `${gw.url}/login`, username);
    const oidc = await codeFlow(username);
    const jwt = oidc.access_token;
    expect(jwt.split('.')).toHaveLength(3);
    const sso = (await deviceFlow(username, true)).tokens!;
    const pendingDevice = (await deviceFlow(username, false)).code;
    return { pat, access: login.body.access_token, refresh: login.body.refresh_token, browser, oidc, jwt, sso, pendingDevice };
  }

  /** What each credential can do right now: true = it still works. */
  async function works(c: Credentials): Promise<Record<string, boolean>> {
    const refresh = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: c.refresh } });
    if (refresh.status === 200) c.refresh = refresh.body.refresh_token;
    const oidcRefresh = await client.refreshTokenGrant(first, c.oidc.refresh_token!).then((t) => ((c.oidc = t), true), () => false);
    const ssoRefresh = await client.refreshTokenGrant(cli, c.sso.refresh_token!).then((t) => ((c.sso = t), true), () => false);
    const device = await client.genericGrantRequest(cli, DEVICE_GRANT, { device_code: c.pendingDevice }).then(() => true, () => false);
    return {
      pat: (await gw.introspect(c.pat)).body.active === true,
      patOnApi: (await gw.api('GET', '/api/v1/me', { token: c.pat })).status === 200,
      loginAccess: (await gw.api('GET', '/api/v1/me', { token: c.access })).status === 200,
      loginMintsPat: (await gw.api('POST', '/api/v1/tokens', { token: c.access, body: { name: 'late' } })).status === 201,
      loginRefresh: refresh.status === 200,
      browser: (await c.browser.get(`${gw.url}/manage_tokens`)).status === 200,
      jwtIntrospected: (await client.tokenIntrospection(jobs, c.jwt)).active === true,
      oidcRefresh,
      ssoOnApi: (await gw.api('GET', '/api/v1/me', { token: c.sso.access_token })).status === 200,
      ssoRefresh,
      pendingDevice: device,
    };
  }

  const all = (value: boolean, keys: Record<string, boolean>) => Object.fromEntries(Object.keys(keys).map((k) => [k, value]));

  it('revoking all of a user\'s tokens ends each credential kind of that user, counts them, and spares others', async () => {
    const olivia = await issueAll('olivia');
    const paul = await issueAll('paul');
    const before = await works(olivia);
    expect(before).toEqual(all(true, before));
    // `works` used the pending device code; issue a fresh one that stays unexchanged.
    olivia.pendingDevice = (await deviceFlow('olivia', false)).code;

    sync();
    const res = await gw.api('DELETE', '/api/v1/users/olivia/tokens', { token: admin });
    expect(res.status).toBe(200);
    // PAT + the one minted by `works`; API login + browser + OP single sign-on sessions; grants
    // of the code flow, the CLI login and the two approved device codes.
    expect(res.body).toMatchObject({ tokens: 2, sessions: expect.any(Number), grants: 4 });
    expect(res.body.sessions).toBeGreaterThanOrEqual(3);

    const after = await works(olivia);
    expect(after).toEqual(all(false, after));
    const bystander = await works(paul);
    expect(bystander).toEqual(all(true, bystander));

    // Credentials issued afterwards work (provider tokens carry whole seconds: wait for the next).
    await nextSecond();
    sync();
    const fresh = await issueAll('olivia');
    const again = await works(fresh);
    expect(again).toEqual(all(true, again));
  });

  it('the emergency switch ends every credential of every user and clients\' own tokens, and says how many', async () => {
    const olivia = await issueAll('olivia');
    const paul = await issueAll('paul');
    const service = await client.discovery(new URL(gw.services.config.server.issuer!), SERVICE.id, SERVICE.secret, undefined, insecure);
    const machine = await client.clientCredentialsGrant(service, { resource: JWT_RESOURCE, scope: 'jobs:submit' });
    expect((await client.tokenIntrospection(jobs, machine.access_token)).active).toBe(true);

    sync();
    const res = await gw.api('POST', '/api/v1/admin/tokens/revoke-all', { token: admin, body: { confirm: 'revoke-all' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ users: 3, tokens: expect.any(Number), sessions: expect.any(Number), grants: expect.any(Number) });
    expect(res.body.tokens).toBeGreaterThanOrEqual(3);
    expect(res.body.grants).toBeGreaterThanOrEqual(6);

    for (const c of [olivia, paul]) {
      const after = await works(c);
      expect(after).toEqual(all(false, after));
    }
    expect((await client.tokenIntrospection(jobs, machine.access_token)).active).toBe(false);
    expect((await gw.api('GET', '/api/v1/me', { token: admin })).status).toBe(401);

    // A second gateway of the same deployment learns the switch from the store.
    const second = await startTestGateway({ prefix: gw.prefix });
    try {
      expect((await second.introspect(olivia.pat)).body).toEqual({ active: false });
      expect((await second.api('GET', '/api/v1/me', { token: paul.access })).status).toBe(401);
    } finally {
      await second.close(); // not stop(): that would delete the shared keys
    }

    await nextSecond();
    sync();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    const fresh = await issueAll('paul');
    const again = await works(fresh);
    expect(again).toEqual(all(true, again));
  });
});
