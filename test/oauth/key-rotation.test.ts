/**
 * Key rotation across two gateway instances on one Redis: concurrent rotations lose no key, and
 * a new key is in every instance's JWKS before any instance signs with it, so every ID token
 * verifies against every instance's JWKS the moment it is issued.
 *
 * The instances run on test clocks moved together; after moving them the test calls
 * `reloadIfChanged()`, which is what each instance's activation timer does in production.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const FIRST = { id: 'first-party', secret: 'first-party-secret-0123456789abc', redirect: 'http://127.0.0.1:9/first' };
const CLIENTS = [{ id: FIRST.id, secret: FIRST.secret, name: 'First Party', redirectUris: [FIRST.redirect], firstParty: true }, { ...CLIENT, resourceServer: true }];
const ACTIVATION = 2 * 60_000;

const jwks = async (gw: TestGateway): Promise<JSONWebKeySet> => (await fetch(`${gw.url}/oauth2/jwks`)).json() as Promise<JSONWebKeySet>;
const kids = async (gw: TestGateway): Promise<string[]> => (await jwks(gw)).keys.map((k) => k.kid!);

describe('signing key rotation on two instances', () => {
  let one: TestGateway;
  let two: TestGateway;
  let issuer: string;

  beforeAll(async () => {
    one = await startTestGateway({ reachableIssuer: true, config: { clients: CLIENTS } });
    issuer = one.services.config.server.issuer!;
    two = await startTestGateway({ prefix: one.prefix, config: { server: { port: 0, host: '127.0.0.1', issuer }, clients: CLIENTS } });
    two.clock.now = one.clock.now;
    const admin = await one.login('admin', ADMIN_PASSWORD);
    await one.api('POST', '/api/v1/users', { token: admin, body: { username: 'olivia', password: 'olivia-password' } });
  });
  afterAll(async () => {
    await two?.close();
    await one?.stop();
  });

  const advanceBoth = (ms: number) => {
    one.clock.advance(ms);
    two.clock.advance(ms);
  };

  /** Authorization code + PKCE through `gw`'s real sign-in page; returns the ID token. */
  async function idTokenFrom(gw: TestGateway): Promise<string> {
    const endpoints = { issuer, authorization_endpoint: `${gw.url}/oauth2/authorize`, token_endpoint: `${gw.url}/oauth2/token`, jwks_uri: `${gw.url}/oauth2/jwks` };
    const config = new client.Configuration(endpoints, FIRST.id, FIRST.secret);
    client.allowInsecureRequests(config);
    const browser = new CookieBrowser();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: FIRST.redirect,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    let page = await browser.follow(await browser.get(url.toString()), gw.url);
    const form = formFields(page.text, '/login');
    page = await browser.follow(await browser.post(gw.url + form.action, { username: 'olivia', password: 'olivia-password' }), gw.url);
    expect(page.location, page.text.slice(0, 300)).toMatch(/^http:\/\/127\.0\.0\.1:9\/first/);
    const tokens = await client.authorizationCodeGrant(config, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state });
    return tokens.id_token!;
  }

  /** Signs one ID token at each instance and checks each against both instances' JWKS, fetched now. */
  async function everyTokenVerifiesEverywhere(): Promise<string[]> {
    const tokens = [await idTokenFrom(one), await idTokenFrom(two)];
    const sets = await Promise.all([one, two].map(async (gw) => createLocalJWKSet(await jwks(gw))));
    for (const token of tokens) {
      for (const keySet of sets) await expect(jwtVerify(token, keySet, { issuer, audience: FIRST.id })).resolves.toBeTruthy();
    }
    return tokens.map((t) => decodeProtectedHeader(t).kid!);
  }

  it('20 concurrent rotations on two gateways: every new key is kept and published everywhere before it signs', async () => {
    const admin = await one.login('admin', ADMIN_PASSWORD);
    const before = await kids(one);
    const signingBefore = (await everyTokenVerifiesEverywhere())[0]!;

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? two : one).api('POST', '/api/v1/admin/keys/rotate', { token: admin })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const rotated = answers.map((a) => a.body.signing_kid as string);
    expect(new Set(rotated).size).toBe(20);

    // Pushed to both instances (pub/sub), not waiting for the 30 s poll.
    for (const gw of [one, two]) await expect.poll(() => kids(gw), { timeout: 15_000 }).toEqual(expect.arrayContaining([...before, ...rotated]));
    // Published, not yet signing: both instances still sign with the key from before.
    expect(await everyTokenVerifiesEverywhere()).toEqual([signingBefore, signingBefore]);

    advanceBoth(ACTIVATION);
    await Promise.all([one.oidc.reloadIfChanged(), two.oidc.reloadIfChanged()]);
    const [fromOne, fromTwo] = await everyTokenVerifiesEverywhere();
    expect(rotated).toContain(fromOne);
    expect(fromTwo).toBe(fromOne);
    // The old key stays published (it signed tokens still in use) until oidc.keyRetirement.
    expect(await kids(two)).toContain(signingBefore);
  }, 180_000);

  it('rotation after rotation, on alternating instances: each ID token verifies at every JWKS at once', async () => {
    const admin = await one.login('admin', ADMIN_PASSWORD);
    for (const gw of [one, two, one]) {
      const { body } = await gw.api('POST', '/api/v1/admin/keys/rotate', { token: admin });
      const other = gw === one ? two : one;
      await expect.poll(() => kids(other), { timeout: 15_000 }).toContain(body.signing_kid);
      await everyTokenVerifiesEverywhere();
      advanceBoth(ACTIVATION);
      await Promise.all([one.oidc.reloadIfChanged(), two.oidc.reloadIfChanged()]);
      expect(await everyTokenVerifiesEverywhere()).toEqual([body.signing_kid, body.signing_kid]);
    }
  }, 180_000);

  it('retired keys leave JWKS after oidc.keyRetirement; the signing key stays', async () => {
    const signing = (await everyTokenVerifiesEverywhere())[0]!;
    advanceBoth(2 * 24 * 3600_000 + 1000);
    await Promise.all([one.oidc.reloadIfChanged(), two.oidc.reloadIfChanged()]);
    expect(await kids(one)).toEqual([signing]);
    expect(await kids(two)).toEqual([signing]);
  }, 60_000);
});
