/**
 * Per-client allow-lists (`clients[].allowedResources`, `clients[].allowedScopes`) at every grant
 * of the provider, with openid-client as the client over real HTTP: client credentials, the
 * authorization code flow, the device flow and refresh. An unlisted resource is `invalid_target`
 * (RFC 8707), an unlisted scope of a listed resource `invalid_scope` (RFC 6749 §5.2).
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const MODELS = 'https://models.example.org';
const JOBS = 'https://jobs.example.org';
const READER = { id: 'models-reader', secret: 'models-reader-secret-0123456789ab' };
const UNLISTED = { id: 'unlisted-service', secret: 'unlisted-service-secret-012345678' };
const APP = { id: 'reader-app', secret: 'reader-app-secret-0123456789abcd', redirect: 'http://127.0.0.1:9/app' };
const DEVICE = { id: 'reader-device' };
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [client.allowInsecureRequests] };
const allowed = { allowedResources: [MODELS], allowedScopes: ['models:read'] };

describe('per-client allow-lists', () => {
  let gw: TestGateway;
  let reader: client.Configuration;
  let unlisted: client.Configuration;
  let app: client.Configuration;
  let device: client.Configuration;

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [
          { ...READER, grantTypes: ['client_credentials'], ...allowed },
          { ...UNLISTED, grantTypes: ['client_credentials'] },
          { id: APP.id, secret: APP.secret, redirectUris: [APP.redirect], firstParty: true, ...allowed },
          { ...DEVICE, public: true, grantTypes: [DEVICE_GRANT, 'refresh_token'], ...allowed },
        ],
        resources: [
          { indicator: MODELS, scopes: ['models:read', 'models:write'] },
          { indicator: JOBS, scopes: ['jobs:submit'] },
        ],
      },
    });
    await gw.api('POST', '/api/v1/users', { token: await gw.login('admin', ADMIN_PASSWORD), body: { username: 'ada', password: 'ada-password' } });
    const issuer = new URL(gw.services.config.server.issuer!);
    reader = await client.discovery(issuer, READER.id, READER.secret, undefined, insecure);
    unlisted = await client.discovery(issuer, UNLISTED.id, UNLISTED.secret, undefined, insecure);
    app = await client.discovery(issuer, APP.id, APP.secret, undefined, insecure);
    device = await client.discovery(issuer, DEVICE.id, undefined, client.None(), insecure);
  });
  afterAll(() => gw?.stop());

  const refusal = (promise: Promise<unknown>) => promise.then(() => ({ error: 'none' }), (e: { error?: string; error_description?: string }) => ({ error: e.error, description: e.error_description }));

  it('client credentials: only the listed resource and scopes; a client with no list gets no API token', async () => {
    const granted = await client.clientCredentialsGrant(reader, { resource: MODELS, scope: 'models:read' });
    expect(granted.scope).toBe('models:read');
    expect((await refusal(client.clientCredentialsGrant(reader, { resource: MODELS, scope: 'models:read models:write' }))).error).toBe('invalid_scope');
    expect(await refusal(client.clientCredentialsGrant(reader, { resource: JOBS, scope: 'jobs:submit' }))).toEqual({
      error: 'invalid_target',
      description: `client ${READER.id} may not obtain tokens for resource ${JOBS}`,
    });
    expect((await refusal(client.clientCredentialsGrant(unlisted, { resource: MODELS }))).error).toBe('invalid_target');
  });

  /** Authorization request through the real sign-in page; returns the redirect back to the app. */
  async function authorize(params: Record<string, string>) {
    const browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(app, {
      redirect_uri: APP.redirect,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
      ...params,
    });
    let page = await browser.follow(await browser.get(url.toString()), gw.url);
    if (page.text.includes('/login')) {
      const login = formFields(page.text, '/login');
      page = await browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username: 'ada', password: 'ada-password' }), gw.url);
    }
    if (page.status === 200 && page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { ...consent.fields, decision: 'allow' }), gw.url);
    }
    expect(page.location, page.text.slice(0, 300)).toMatch(new RegExp(`^${APP.redirect}`));
    return { callback: new URL(page.location!), verifier };
  }

  it('authorization code: an unlisted resource or scope comes back as the error; the listed ones are issued and refresh', async () => {
    const target = await authorize({ scope: 'openid', resource: JOBS });
    expect(target.callback.searchParams.get('error')).toBe('invalid_target');
    const scope = await authorize({ scope: 'openid models:write', resource: MODELS });
    expect(scope.callback.searchParams.get('error')).toBe('invalid_scope');

    const ok = await authorize({ scope: 'openid offline_access models:read', resource: MODELS });
    const tokens = await client.authorizationCodeGrant(app, ok.callback, { pkceCodeVerifier: ok.verifier });
    expect(tokens.scope?.split(' ')).toContain('models:read');
    // Refresh: asking for an unlisted scope is refused before the refresh token is used up.
    expect((await refusal(client.refreshTokenGrant(app, tokens.refresh_token!, { resource: MODELS, scope: 'models:write' }))).error).toBe('invalid_scope');
    const refreshed = await client.refreshTokenGrant(app, tokens.refresh_token!, { resource: MODELS });
    expect(refreshed.scope).toBe('models:read');
  });

  it('device flow: an unlisted resource is refused at device authorization; the listed one is issued', async () => {
    expect((await refusal(client.initiateDeviceAuthorization(device, { scope: 'openid', resource: JOBS }))).error).toBe('invalid_target');
    expect((await refusal(client.initiateDeviceAuthorization(device, { scope: 'openid models:write', resource: MODELS }))).error).toBe('invalid_scope');
    const started = await client.initiateDeviceAuthorization(device, { scope: 'openid models:read', resource: MODELS });
    const browser = new CookieBrowser();
    let page = await browser.get(started.verification_uri);
    const input = formFields(page.text, 'op.deviceInputForm');
    page = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: started.user_code });
    const confirm = formFields(page.text, 'op.deviceConfirmForm');
    page = await browser.follow(await browser.post(new URL(confirm.action, gw.url).toString(), confirm.fields), gw.url);
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username: 'ada', password: 'ada-password' }), gw.url);
    if (page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { ...consent.fields, decision: 'allow' }), gw.url);
    }
    expect(page.text).toContain('Device connected');
    const tokens = await client.genericGrantRequest(device, DEVICE_GRANT, { device_code: started.device_code });
    expect(tokens.scope).toBe('models:read');
  });

  it('an allow-list naming an unknown resource is refused at start-up', () => {
    expect(() => parseConfig({ clients: [{ ...UNLISTED, allowedResources: ['https://typo.example.org'] }] })).toThrow(/https:\/\/typo\.example\.org is not one of resources\[\]\.indicator/);
  });
});
