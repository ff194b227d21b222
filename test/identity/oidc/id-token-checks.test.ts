/**
 * What an upstream's answer must satisfy, against a provider that misbehaves on purpose: a
 * small discovery + JWKS + token endpoint that returns whatever ID token the test forges. Every
 * forged token is refused with 403 and no user is made; the untouched token is accepted (so
 * each refusal is the check named, not a broken harness).
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcSource } from '../../../src/identity/oidc/oidc-source.js';
import { CookieBrowser } from '../../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { freePort } from '../../helpers/redis-server.js';

type Forge = (claims: JWTPayload) => Promise<string>;

describe('upstream OpenID Connect: ID token checks', () => {
  let gw: TestGateway;
  let server: Server;
  let issuer: string;
  let forge: Forge;
  let nonce = '';
  let refreshAnswer: { status: number; body: unknown } = { status: 400, body: { error: 'invalid_grant' } };
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let otherKeys: Awaited<ReturnType<typeof generateKeyPair>>;
  const clientId = 'tessera';
  const clientSecret = 'forging-op-client-secret-0123456789abcdef';

  const sign = (key: CryptoKey | Uint8Array, alg: string, kid?: string) => (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).sign(key);
  const now = () => Math.floor(Date.now() / 1000);
  const goodClaims = (): JWTPayload => ({ iss: issuer, aud: clientId, sub: 'u-1', preferred_username: 'ivy', nonce, iat: now(), exp: now() + 300 });

  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
    otherKeys = await generateKeyPair('RS256', { extractable: true });
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer(async (req, res) => {
      const json = (body: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration') {
        return json({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] });
      }
      if (req.url === '/jwks') return json({ keys: [jwk] });
      if (req.url === '/token') {
        let raw = '';
        for await (const chunk of req) raw += chunk;
        if (new URLSearchParams(raw).get('grant_type') === 'refresh_token') {
          res.statusCode = refreshAnswer.status;
          return json(refreshAnswer.body);
        }
        return json({ access_token: 'at-0123456789', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-0123456789', id_token: await forge(goodClaims()) });
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    gw = await startTestGateway({ reachableIssuer: true, config: { openidConnect: [{ id: 'forged', displayName: 'Forged', issuer, clientId, clientSecret, revalidateInterval: 0 }] } });
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  /** Starts a sign-in as a browser would; returns the browser and the state the provider must echo. */
  async function start(): Promise<{ browser: CookieBrowser; state: string }> {
    const browser = new CookieBrowser();
    const page = await browser.get(`${gw.url}/sso/forged/login?return=/manage_tokens`);
    expect(page.status).toBe(303);
    const authorize = new URL(page.location!);
    expect(authorize.origin + authorize.pathname).toBe(`${issuer}/auth`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    nonce = authorize.searchParams.get('nonce')!;
    return { browser, state: authorize.searchParams.get('state')! };
  }

  async function answer(f: Forge): Promise<{ status: number; text: string }> {
    forge = f;
    const { browser, state } = await start();
    return browser.get(`${gw.url}/sso/forged/callback?code=c0de&state=${state}`);
  }

  const refusals: [string, () => Forge, RegExp][] = [
    ['a wrong nonce', () => (c) => sign(keys.privateKey, 'RS256', 'k1')({ ...c, nonce: 'not-the-nonce' }), /nonce/],
    ['a wrong issuer', () => (c) => sign(keys.privateKey, 'RS256', 'k1')({ ...c, iss: 'https://evil.example' }), /iss/],
    ['a wrong audience', () => (c) => sign(keys.privateKey, 'RS256', 'k1')({ ...c, aud: 'someone-else' }), /aud/],
    ['an expired ID token', () => (c) => sign(keys.privateKey, 'RS256', 'k1')({ ...c, iat: now() - 7200, exp: now() - 3600 }), /exp|timestamp/],
    ['an unsigned ID token (alg: none)', () => async (c) => `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.`, /refused/],
    ['an ID token signed by a key not in the JWKS', () => (c) => sign(otherKeys.privateKey, 'RS256', 'k1')(c), /refused/],
    ['an ID token signed with the client secret (HS256)', () => (c) => sign(new TextEncoder().encode(clientSecret), 'HS256')(c), /refused/],
  ];

  it('accepts the untouched ID token (the harness works)', async () => {
    const page = await answer((c) => sign(keys.privateKey, 'RS256', 'k1')(c));
    expect(page.status).toBe(303);
    expect(await gw.services.users.get('ivy')).toMatchObject({ source: 'forged' });
    await gw.services.users.delete('ivy', 'test');
  });

  for (const [what, make, message] of refusals) {
    it(`refuses ${what}`, async () => {
      const page = await answer(make());
      expect(page.status).toBe(403);
      expect(page.text).toContain('Sign-in failed');
      expect(page.text).toMatch(message);
      await expect(gw.services.users.get('ivy')).rejects.toThrow();
    });
  }

  it('refuses an unknown state, and a state answered once already', async () => {
    forge = (c) => sign(keys.privateKey, 'RS256', 'k1')(c);
    const { browser, state } = await start();
    expect((await browser.get(`${gw.url}/sso/forged/callback?code=c0de&state=${'x'.repeat(43)}`)).status).toBe(403);
    const first = await browser.get(`${gw.url}/sso/forged/callback?code=c0de&state=${state}`);
    expect(first.status).toBe(303);
    const replay = await browser.get(`${gw.url}/sso/forged/callback?code=c0de&state=${state}`);
    expect(replay.status).toBe(403);
    expect(replay.text).toContain('already been answered');
    // The state is bound to the browser that started it: another browser cannot finish the hand-off.
    expect((await new CookieBrowser().get(first.location!)).status).toBe(403);
  });

  it('re-validation: only invalid_grant disables the user; another refusal of the refresh token stops the round', async () => {
    const page = await answer((c) => sign(keys.privateKey, 'RS256', 'k1')(c));
    expect(page.status).toBe(303);
    const source = gw.services.sources.find((s) => s.id === 'forged') as OidcSource;
    refreshAnswer = { status: 401, body: { error: 'invalid_client' } };
    expect(await source.revalidator.runOnce()).toMatchObject({ disabled: [], skipped: expect.any(String) });
    refreshAnswer = { status: 503, body: { error: 'temporarily_unavailable' } };
    expect(await source.revalidator.runOnce()).toMatchObject({ disabled: [], skipped: expect.any(String) });
    expect(await gw.services.users.get('ivy')).toMatchObject({ enabled: true });
    refreshAnswer = { status: 400, body: { error: 'invalid_grant' } };
    expect((await source.revalidator.runOnce()).disabled).toEqual(['ivy']);
    expect(await gw.services.users.get('ivy')).toMatchObject({ enabled: false });
  });

  it('an error from the provider is refused with its code only', async () => {
    const { browser, state } = await start();
    const page = await browser.get(`${gw.url}/sso/forged/callback?error=access_denied&error_description=${encodeURIComponent('<script>x</script>')}&state=${state}`);
    expect(page.status).toBe(403);
    expect(page.text).toContain('Forged refused the sign-in (access_denied)');
    expect(page.text).not.toContain('<script>x');
  });
});
