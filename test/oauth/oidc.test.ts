/**
 * Tessera as an OpenID Provider, driven by a real relying-party library (openid-client) and
 * real HTTP through the real login pages.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const WEB = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'http://127.0.0.1:9/callback' };
const FIRST = { id: 'first-party', secret: 'first-party-secret-0123456789abc', redirect: 'http://127.0.0.1:9/first' };
const SPA = { id: 'spa', redirect: 'http://127.0.0.1:9/spa' };
const SERVICE = { id: 'batch-service', secret: 'batch-service-secret-0123456789ab' };
const API = { id: 'models-api', secret: 'models-api-secret-0123456789abcd' };
const RESOURCE = 'https://models.example.org';
const JWT_RESOURCE = 'https://jobs.example.org';

describe('OpenID Provider', () => {
  let gw: TestGateway;
  let issuer: URL;
  let web: client.Configuration;
  let browser: CookieBrowser;

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [
          { id: WEB.id, secret: WEB.secret, name: 'Web App', redirectUris: [WEB.redirect] },
          { id: FIRST.id, secret: FIRST.secret, name: 'First Party', redirectUris: [FIRST.redirect], firstParty: true },
          { id: SPA.id, public: true, redirectUris: [SPA.redirect] },
          { id: SERVICE.id, secret: SERVICE.secret, grantTypes: ['client_credentials'], allowedResources: [RESOURCE, JWT_RESOURCE], allowedScopes: ['models:read', 'models:write', 'jobs:submit'] },
          { id: API.id, secret: API.secret, resourceServer: true, resources: [RESOURCE] },
          { id: 'downstream-api', secret: 'downstream-secret-0123456789abcdef', resourceServer: true },
        ],
        resources: [
          { indicator: RESOURCE, scopes: ['models:read', 'models:write'] },
          { indicator: JWT_RESOURCE, scopes: ['jobs:submit'], accessTokenFormat: 'jwt' },
        ],
      },
    });
    await gw.api('POST', '/api/v1/users', { token: await gw.login('admin', ADMIN_PASSWORD), body: { username: 'olivia', password: 'olivia-password', email: 'olivia@example.org', display_name: 'Olivia' } });
    issuer = new URL(gw.services.config.server.issuer!);
    web = await client.discovery(issuer, WEB.id, WEB.secret, undefined, { execute: [client.allowInsecureRequests] });
  });
  afterAll(() => gw?.stop());

  const auditEvents = async (query: string) => (await gw.api('GET', `/api/v1/audit?${query}`, { token: await gw.login('admin', ADMIN_PASSWORD) })).body.events as any[];

  /** Authorization code + PKCE through the real sign-in (and consent) pages. Returns the callback URL. */
  async function signIn(config: client.Configuration, redirectUri: string, extra: Record<string, string> = {}, user = ['olivia', 'olivia-password']) {
    browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      prompt: 'consent',
      ...extra,
    });
    let page = await browser.follow(await browser.get(url.toString()), gw.url);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign in');
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { username: user[0]!, password: user[1]! }), gw.url);
    if (page.status === 200 && page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { decision: 'allow' }), gw.url);
    }
    expect(page.location, page.text.slice(0, 500)).toMatch(new RegExp(`^${redirectUri}`));
    return { callback: new URL(page.location!), verifier, state };
  }

  it('publishes discovery and JWKS with the /oauth2 endpoints', async () => {
    const meta = web.serverMetadata();
    expect(meta.issuer).toBe(issuer.href.replace(/\/$/, ''));
    expect(meta.authorization_endpoint).toBe(`${gw.url}/oauth2/authorize`);
    expect(meta.token_endpoint).toBe(`${gw.url}/oauth2/token`);
    expect(meta.introspection_endpoint).toBe(`${gw.url}/oauth2/introspect`);
    expect(meta.revocation_endpoint).toBe(`${gw.url}/oauth2/revoke`);
    expect(meta.device_authorization_endpoint).toBe(`${gw.url}/oauth2/device/auth`);
    expect(meta.end_session_endpoint).toBe(`${gw.url}/oauth2/session/end`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.grant_types_supported).not.toContain('password');
    expect(meta.grant_types_supported).not.toContain('implicit');
    expect(meta.response_types_supported).toEqual(['code']);
    const jwks = await (await fetch(meta.jwks_uri!)).json();
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('authorization code + PKCE: consent, ID token verified with JWKS, userinfo, refresh rotation and reuse detection', async () => {
    const { callback, verifier, state } = await signIn(web, WEB.redirect);
    const tokens = await client.authorizationCodeGrant(web, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const olivia = await gw.services.users.get('olivia');
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(web.serverMetadata().jwks_uri!)), { issuer: web.serverMetadata().issuer, audience: WEB.id });
    expect(payload.sub).toBe(olivia.id);
    expect(payload.email).toBeUndefined(); // claims go to userinfo unless requested in the ID token
    const info = await client.fetchUserInfo(web, tokens.access_token, olivia.id);
    expect(info).toMatchObject({ sub: olivia.id, preferred_username: 'olivia', name: 'Olivia', email: 'olivia@example.org', tessera_source: 'local' });

    // Refresh rotates; the rotated one presented again revokes the whole grant.
    const second = await client.refreshTokenGrant(web, tokens.refresh_token!);
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    await expect(client.refreshTokenGrant(web, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(web, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const introspected = await client.tokenIntrospection(web, second.access_token);
    expect(introspected.active).toBe(false);
    // The provider's own revocation of the grant is in the audit trail.
    expect(await auditEvents('type=oidc.grant_revoked')).toContainEqual(expect.objectContaining({ outcome: 'succeeded', target: { clientId: WEB.id } }));
  });

  it('tokens of a user who is disabled, deleted, or had a password reset introspect as inactive', async () => {
    // oidc-provider stamps tokens with the real clock (whole seconds); keep the gateway's in step.
    const sync = () => (gw.clock.now = Date.now());
    const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'paul', password: 'paul-password' } });
    const issue = async () => {
      const { callback, verifier, state } = await signIn(web, WEB.redirect, {}, ['paul', 'paul-password']);
      return client.authorizationCodeGrant(web, callback, { pkceCodeVerifier: verifier, expectedState: state });
    };
    let tokens = await issue();
    expect((await client.tokenIntrospection(web, tokens.access_token)).active).toBe(true);
    sync();
    await gw.api('PATCH', '/api/v1/users/paul', { token: admin, body: { enabled: false } });
    expect((await client.tokenIntrospection(web, tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(web, tokens.refresh_token!)).active).toBe(false);
    await gw.api('PATCH', '/api/v1/users/paul', { token: admin, body: { enabled: true } });

    await nextSecond();
    tokens = await issue();
    expect((await client.tokenIntrospection(web, tokens.access_token)).active).toBe(true);
    await nextSecond();
    sync();
    await gw.api('PATCH', '/api/v1/users/paul', { token: admin, body: { password: 'paul-new-password' } });
    expect((await client.tokenIntrospection(web, tokens.access_token)).active).toBe(false);
    await gw.api('DELETE', '/api/v1/users/paul', { token: admin });
    expect((await client.tokenIntrospection(web, tokens.refresh_token!)).active).toBe(false);
  });

  it('the same refresh token sent ten times at once: one wins, the grant is revoked', async () => {
    const { callback, verifier, state } = await signIn(web, WEB.redirect);
    const tokens = await client.authorizationCodeGrant(web, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.refreshTokenGrant(web, tokens.refresh_token!)));
    const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<client.TokenEndpointResponse>[];
    expect(won.length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.error === 'invalid_grant')).toBe(true);
    // A race is a reuse: whatever the winner got is dead too.
    for (const w of won) expect((await client.tokenIntrospection(web, w.value.access_token)).active).toBe(false);
  });

  it('a first-party client skips the consent page', async () => {
    const first = await client.discovery(issuer, FIRST.id, FIRST.secret, undefined, { execute: [client.allowInsecureRequests] });
    browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(first, { redirect_uri: FIRST.redirect, scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    let page = await browser.follow(await browser.get(url.toString()), gw.url);
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { username: 'olivia', password: 'olivia-password' }), gw.url);
    expect(page.location).toMatch(new RegExp(`^${FIRST.redirect}\\?code=`));
    const tokens = await client.authorizationCodeGrant(first, new URL(page.location!), { pkceCodeVerifier: verifier, idTokenExpected: true });
    expect(tokens.claims()!.sub).toBe((await gw.services.users.get('olivia')).id);
  });

  it('a wrong password re-shows the form with a neutral error and issues nothing', async () => {
    browser = new CookieBrowser();
    const url = client.buildAuthorizationUrl(web, { redirect_uri: WEB.redirect, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await browser.follow(await browser.get(url.toString()), gw.url);
    const login = formFields(page.text, '/login');
    const wrong = await browser.post(gw.url + login.action, { username: 'olivia', password: 'not-her-password' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Sign-in failed');
    const unknown = await browser.post(gw.url + login.action, { username: 'nobody', password: 'whatever-pass' });
    expect(unknown.text).toContain('Sign-in failed');
    // Posting the form without the interaction cookie (a cross-site post) does nothing.
    const stranger = new CookieBrowser();
    const forged = await stranger.post(gw.url + login.action, { username: 'olivia', password: 'olivia-password' });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.location).toBeUndefined();
  });

  it('negative cases: missing PKCE, wrong verifier, reused code, unregistered redirect, unknown client, wrong secret', async () => {
    const spa = await client.discovery(issuer, SPA.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    // A public client without PKCE gets an error redirect, not a code.
    browser = new CookieBrowser();
    const noPkce = await browser.get(client.buildAuthorizationUrl(spa, { redirect_uri: SPA.redirect, scope: 'openid' }).toString());
    expect(noPkce.location).toMatch(/error=invalid_request/);
    expect(noPkce.location).toMatch(/requires\+PKCE/);

    const { callback, state } = await signIn(web, WEB.redirect);
    await expect(client.authorizationCodeGrant(web, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
    const again = await signIn(web, WEB.redirect);
    await client.authorizationCodeGrant(web, again.callback, { pkceCodeVerifier: again.verifier, expectedState: again.state });
    await expect(client.authorizationCodeGrant(web, again.callback, { pkceCodeVerifier: again.verifier, expectedState: again.state })).rejects.toMatchObject({ error: 'invalid_grant' });

    // An unregistered redirect URI is an error page here, never a redirect to it.
    const evil = await new CookieBrowser().get(client.buildAuthorizationUrl(web, { redirect_uri: 'https://evil.example/cb', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString());
    expect(evil.status).toBe(400);
    expect(evil.location).toBeUndefined();
    expect(evil.text).toContain('redirect_uri');

    const unknown = await new CookieBrowser().get(`${gw.url}/oauth2/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(WEB.redirect)}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('invalid_client');

    const wrongSecret = await client.discovery(issuer, SERVICE.id, 'not-the-secret-0123456789', undefined, { execute: [client.allowInsecureRequests] });
    await expect(client.clientCredentialsGrant(wrongSecret, { resource: RESOURCE })).rejects.toMatchObject({ error: 'invalid_client' });
    expect(await auditEvents('type=client.auth_failed')).toContainEqual(expect.objectContaining({ outcome: 'failed', target: { clientId: SERVICE.id } }));
    expect(JSON.stringify(await auditEvents('limit=200'))).not.toContain('not-the-secret-0123456789');
  });

  it('client credentials: opaque token introspected by its resource server, JWT (RFC 9068) token verified offline', async () => {
    const service = await client.discovery(issuer, SERVICE.id, SERVICE.secret, undefined, { execute: [client.allowInsecureRequests] });
    const opaque = await client.clientCredentialsGrant(service, { resource: RESOURCE, scope: 'models:read' });
    expect(opaque.access_token.split('.')).toHaveLength(1);
    const api = await client.discovery(issuer, API.id, API.secret, undefined, { execute: [client.allowInsecureRequests] });
    const seen = await client.tokenIntrospection(api, opaque.access_token);
    expect(seen).toMatchObject({ active: true, client_id: SERVICE.id, scope: 'models:read', aud: RESOURCE });
    // The web app is neither the token's client nor its audience: denied.
    expect((await client.tokenIntrospection(web, opaque.access_token)).active).toBe(false);
    // The issuing client may introspect its own token.
    expect((await client.tokenIntrospection(service, opaque.access_token)).active).toBe(true);

    const jwt = await client.clientCredentialsGrant(service, { resource: JWT_RESOURCE, scope: 'jobs:submit' });
    expect(decodeProtectedHeader(jwt.access_token).typ).toBe('at+jwt');
    const { payload } = await jwtVerify(jwt.access_token, createRemoteJWKSet(new URL(`${gw.url}/oauth2/jwks`)), { issuer: service.serverMetadata().issuer, audience: JWT_RESOURCE, typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: SERVICE.id, scope: 'jobs:submit' });

    // Revocation at the same endpoint as PATs.
    await client.tokenRevocation(service, opaque.access_token);
    expect((await client.tokenIntrospection(api, opaque.access_token)).active).toBe(false);
  });

  it('one introspection endpoint: PATs and provider tokens, same client authentication', async () => {
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    const pat = (await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'both kinds' } })).body.token;
    const api = await client.discovery(issuer, API.id, API.secret, undefined, { execute: [client.allowInsecureRequests] });
    expect(await client.tokenIntrospection(api, pat)).toMatchObject({ active: true, username: 'admin', token_use: 'personal_access_token' });
    // The web app is not a resource server: PATs are not its business.
    expect(await client.tokenIntrospection(web, pat)).toEqual({ active: false });
    await client.tokenRevocation(api, pat);
    expect((await client.tokenIntrospection(api, pat)).active).toBe(false);
  });

  it('device flow (RFC 8628): the user approves in the browser pages, the CLI gets tokens', async () => {
    const cli = await client.discovery(issuer, 'tessera-cli', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const device = await client.initiateDeviceAuthorization(cli, { scope: 'openid profile offline_access' });
    expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.verification_uri).toBe(`${gw.url}/oauth2/device`);
    const pending = await client.genericGrantRequest(cli, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: device.device_code }).catch((e) => e);
    expect(pending.error).toBe('authorization_pending');

    browser = new CookieBrowser();
    let page = await browser.get(device.verification_uri);
    expect(page.text).toContain('Connect a device');
    const input = formFields(page.text, 'op.deviceInputForm');
    page = await browser.post(new URL(input.action, gw.url).toString(), { ...input.fields, user_code: device.user_code });
    expect(page.text).toContain(device.user_code);
    const confirm = formFields(page.text, 'op.deviceConfirmForm');
    page = await browser.follow(await browser.post(new URL(confirm.action, gw.url).toString(), confirm.fields), gw.url);
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { username: 'olivia', password: 'olivia-password' }), gw.url);
    expect(page.text).toContain('Device connected');

    const tokens = await client.genericGrantRequest(cli, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: device.device_code });
    expect(tokens.refresh_token).toBeTruthy();
    const info = await client.fetchUserInfo(cli, tokens.access_token, client.skipSubjectCheck);
    expect(info.preferred_username).toBe('olivia');

    // The CLI's SSO login works on the gateway's own API, like a password login...
    const me = await gw.api('GET', '/api/v1/me', { token: tokens.access_token });
    expect(me.body).toMatchObject({ username: 'olivia', authenticated_with: 'sso_login' });
    const pat = await gw.api('POST', '/api/v1/tokens', { token: tokens.access_token, body: { name: 'made after SSO' } });
    expect(pat.status).toBe(201);
    expect((await gw.introspect(pat.body.token)).body.username).toBe('olivia');
    // ...and logout with its refresh token ends the grant.
    expect((await gw.api('POST', '/api/v1/logout', { token: tokens.access_token, body: { refresh_token: tokens.refresh_token } })).status).toBe(204);
    expect((await gw.api('GET', '/api/v1/me', { token: tokens.access_token })).status).toBe(401);
    // Audited with the SSO login as the credential: the token it made, and the grant it ended.
    const [made] = await auditEvents(`type=token.created&token=${pat.body.id}`);
    expect(made.actor).toMatchObject({ username: 'olivia', credential: 'oidc' });
    const [ended] = await auditEvents('type=oidc.grant_revoked&actor=olivia');
    expect(ended).toMatchObject({ outcome: 'succeeded', actor: { credential: 'oidc' }, target: { clientId: 'tessera-cli' } });
  });

  it('access tokens of other clients are not accepted by the gateway API', async () => {
    const { callback, verifier, state } = await signIn(web, WEB.redirect);
    const tokens = await client.authorizationCodeGrant(web, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect((await gw.api('GET', '/api/v1/me', { token: tokens.access_token })).status).toBe(401);
  });

  it('rotating the signing key keeps old ID tokens verifiable and signs new ones with the new key', async () => {
    const first = await client.discovery(issuer, FIRST.id, FIRST.secret, undefined, { execute: [client.allowInsecureRequests] });
    const before = await signIn(first, FIRST.redirect, { scope: 'openid' });
    const oldTokens = await client.authorizationCodeGrant(first, before.callback, { pkceCodeVerifier: before.verifier, expectedState: before.state });
    const oldKid = decodeProtectedHeader(oldTokens.id_token!).kid;

    const admin = await gw.login('admin', ADMIN_PASSWORD);
    const rotated = await gw.api('POST', '/api/v1/admin/keys/rotate', { token: admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.retiring).toContain(oldKid);
    const jwks = await (await fetch(`${gw.url}/oauth2/jwks`)).json();
    expect(jwks.keys.map((k: any) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotated.body.signing_kid]));

    // Published at once, signing only once oidc.keyActivationDelay (default 2m) has passed.
    const pending = await signIn(first, FIRST.redirect, { scope: 'openid' });
    const pendingTokens = await client.authorizationCodeGrant(first, pending.callback, { pkceCodeVerifier: pending.verifier, expectedState: pending.state });
    expect(decodeProtectedHeader(pendingTokens.id_token!).kid).toBe(oldKid);
    gw.clock.advance(2 * 60_000);
    expect(await gw.oidc.reloadIfChanged()).toBe(true);

    const after = await signIn(first, FIRST.redirect, { scope: 'openid' });
    const newTokens = await client.authorizationCodeGrant(first, after.callback, { pkceCodeVerifier: after.verifier, expectedState: after.state });
    expect(decodeProtectedHeader(newTokens.id_token!).kid).toBe(rotated.body.signing_kid);
    const keySet = createRemoteJWKSet(new URL(`${gw.url}/oauth2/jwks`));
    await expect(jwtVerify(oldTokens.id_token!, keySet)).resolves.toBeTruthy();
    await expect(jwtVerify(newTokens.id_token!, keySet)).resolves.toBeTruthy();
    const normal = await gw.login('olivia', 'olivia-password');
    expect((await gw.api('POST', '/api/v1/admin/keys/rotate', { token: normal })).status).toBe(403);
  });
});
