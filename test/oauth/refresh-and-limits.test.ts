/**
 * Small OAuth edges, through the real HTTP app with openid-client as the client: a refresh
 * naming a wrong resource leaves the refresh token usable; a refused refresh says the same
 * whether the token was forged or rotated out; provider routes answer 413 to an oversized body;
 * a `secretHash` client's wrong secrets cost a bounded amount of scrypt.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TooManyRequests, InvalidClient } from '../../src/errors.js';
import { hashPassword } from '../../src/identity/passwords.js';
import { ClientRegistry } from '../../src/oauth/clients.js';
import { parseConfig } from '../../src/config/load.js';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const APP = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'http://127.0.0.1:9/callback' };
const MODELS = 'https://models.example.org';
const JOBS = 'https://jobs.example.org';
const insecure = { execute: [client.allowInsecureRequests] };

describe('refresh requests and body limits', () => {
  let gw: TestGateway;
  let app: client.Configuration;

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [{ id: APP.id, secret: APP.secret, redirectUris: [APP.redirect], firstParty: true, allowedResources: [MODELS, JOBS], allowedScopes: ['models:read', 'jobs:submit'] }],
        resources: [
          { indicator: MODELS, scopes: ['models:read'] },
          { indicator: JOBS, scopes: ['jobs:submit'] },
        ],
      },
    });
    const admin = await gw.login('admin', 'admin-password-for-tests');
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'rita', password: 'rita-password' } });
    app = await client.discovery(new URL(gw.services.config.server.issuer!), APP.id, APP.secret, undefined, insecure);
  });
  afterAll(() => gw?.stop());

  async function tokens() {
    const browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(app, {
      redirect_uri: APP.redirect,
      scope: 'openid offline_access models:read',
      resource: MODELS,
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    let page = await browser.follow(await browser.get(url.toString()), gw.url);
    const login = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + login.action, { ...login.fields, username: 'rita', password: 'rita-password' }), gw.url);
    if (page.status === 200 && page.text.includes('/confirm')) {
      const consent = formFields(page.text, '/confirm');
      page = await browser.follow(await browser.post(gw.url + consent.action, { ...consent.fields, decision: 'allow' }), gw.url);
    }
    return client.authorizationCodeGrant(app, new URL(page.location!), { pkceCodeVerifier: verifier });
  }

  it('a refresh naming an unknown or ungranted resource is refused with invalid_target and the token stays usable', async () => {
    const first = await tokens();
    expect(first.refresh_token).toBeTruthy();
    for (const resource of ['https://unknown.example.org', JOBS]) {
      const refused = await client.refreshTokenGrant(app, first.refresh_token!, { resource }).catch((e) => e);
      expect(refused.error).toBe('invalid_target');
    }
    const next = await client.refreshTokenGrant(app, first.refresh_token!, { resource: MODELS });
    expect(next.access_token).toBeTruthy();
    expect(next.refresh_token).not.toBe(first.refresh_token);
  });

  it('a refused provider refresh reads the same whether the token was forged or rotated out', async () => {
    const first = await tokens();
    await client.refreshTokenGrant(app, first.refresh_token!);
    const body = async (refresh: string) => {
      const res = await fetch(`${gw.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${APP.id}:${APP.secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
      });
      return { status: res.status, body: await res.json() };
    };
    const rotated = await body(first.refresh_token!);
    const forged = await body(`${first.refresh_token!.slice(0, -4)}AAAA`);
    expect(rotated).toEqual(forged);
    expect(rotated).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } });
  });

  it('a refused login refresh (tsrt_) reads the same whether the token was forged, malformed or rotated out', async () => {
    const login = (await gw.api('POST', '/api/v1/login', { body: { username: 'rita', password: 'rita-password' } })).body;
    const next = (await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: login.refresh_token } })).body;
    expect(next.refresh_token).toMatch(/^tsrt_/);
    const rotated = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: login.refresh_token } });
    const forgedOwner = `tsrt_${login.refresh_token.slice(5, 17)}${'A'.repeat(38)}`;
    const forged = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: forgedOwner } });
    const garbage = await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: 'not-a-token' } });
    for (const res of [forged, garbage]) expect({ status: res.status, body: res.body }).toEqual({ status: rotated.status, body: rotated.body });
    expect(rotated.body).toEqual({ error: 'invalid_grant', error_description: 'refresh token is invalid, expired or revoked' });
  });

  it('provider routes answer 413 to a body over the limit, before the provider reads it', async () => {
    const res = await fetch(`${gw.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&pad=${'x'.repeat(gw.services.config.server.bodyLimitBytes + 10)}`,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('secretHash clients: a wrong secret costs a bounded amount', () => {
  const secret = 'hashed-client-secret-0123456789';

  async function registry(now: () => number) {
    const config = parseConfig({ clients: [{ id: 'rs', secretHash: await hashPassword(secret, 1 << 12), resourceServer: true }] });
    return new ClientRegistry(config.clients, { maxConcurrentHashes: 2, failuresPerWindow: 5, windowMs: 60_000, now });
  }

  it('at most two verifications at once; the rest are refused with 429 without hashing', async () => {
    const clients = await registry(Date.now);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => clients.authenticate({ basic: { id: 'rs', secret: `wrong-${i}-0123456789abcdef` } })));
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason);
    expect(reasons.filter((e) => e instanceof InvalidClient)).toHaveLength(2);
    expect(reasons.filter((e) => e instanceof TooManyRequests)).toHaveLength(8);
  });

  it('after five failures in a window the client is refused without hashing until the window ends', async () => {
    let now = 1_000_000;
    const clients = await registry(() => now);
    for (let i = 0; i < 5; i++) await expect(clients.authenticate({ post: { id: 'rs', secret: `wrong-${i}-0123456789abcdef` } })).rejects.toBeInstanceOf(InvalidClient);
    const throttled = await clients.authenticate({ post: { id: 'rs', secret } }).catch((e) => e);
    expect(throttled).toBeInstanceOf(TooManyRequests);
    expect(Number(throttled.headers['Retry-After'])).toBe(60);
    now += 60_000;
    await expect(clients.authenticate({ post: { id: 'rs', secret } })).resolves.toMatchObject({ id: 'rs' });
    // Verified once: from now on wrong secrets are a constant-time compare, never throttled.
    for (let i = 0; i < 10; i++) await expect(clients.authenticate({ post: { id: 'rs', secret: `wrong-${i}-0123456789abcdef` } })).rejects.toBeInstanceOf(InvalidClient);
  });
});
