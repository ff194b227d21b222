/**
 * CORS (`server.cors.origins`) on /api/v1 and the OAuth endpoints, the PAT-login lifetime clamp,
 * and `tessera user show`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser } from '../cli/helpers.js';

vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

const APP = 'https://app.example.org';
const EVIL = 'https://evil.example.net';
const SPA = { id: 'spa', redirect: 'http://127.0.0.1:9/spa' };

describe('CORS, lifetime clamp, user show', () => {
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway({
      reachableIssuer: true,
      config: { server: { cors: { origins: [APP] } }, clients: [{ id: SPA.id, public: true, redirectUris: [SPA.redirect] }] },
    });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  const preflight = (path: string, origin: string) =>
    gw.api('OPTIONS', path, { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

  it('answers a preflight from a listed origin, echoing it (no wildcard, no credentials); a refused origin gets no CORS header', async () => {
    for (const path of ['/api/v1/tokens', '/oauth2/revoke']) {
      const ok = await preflight(path, APP);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
      expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
      const refused = await preflight(path, EVIL);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
    const actual = await gw.api('GET', '/api/v1/me', { token: admin, headers: { origin: APP } });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe(APP);
    expect(actual.headers.get('vary')).toContain('Origin');
    expect((await gw.api('GET', '/api/v1/me', { token: admin, headers: { origin: EVIL } })).headers.get('access-control-allow-origin')).toBeNull();
    // The provider's token endpoint: the listed origin is allowed for a client, another is not.
    const token = (origin: string) => gw.api('POST', '/oauth2/token', { headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&client_id=${SPA.id}&refresh_token=nope` });
    expect((await token(APP)).headers.get('access-control-allow-origin')).toBe(APP);
    expect((await token(EVIL)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a wildcard or a non-origin in server.cors.origins', () => {
    for (const origin of ['*', 'https://app.example.org/path', 'app.example.org']) {
      expect(() => parseConfig({ server: { cors: { origins: [origin] } } })).toThrow(/exact origin/);
    }
  });

  it('a PAT without a lifetime asked makes a token that ends with it, and says so; an explicit longer one is refused', async () => {
    const owner = await gw.login('admin', ADMIN_PASSWORD);
    const parent = (await gw.api('POST', '/api/v1/tokens', { token: owner, body: { name: 'short parent', expires_in: '10d' } })).body;
    const child = await gw.api('POST', '/api/v1/tokens', { token: parent.token, body: { name: 'child' } });
    expect(child.status).toBe(201);
    expect(child.body.expires_at).toBe(parent.expires_at);
    expect(child.body.notice).toMatch(/expires with the token that created it/);
    const sliding = await gw.api('POST', '/api/v1/tokens', { token: parent.token, body: { name: 'sliding child', expiration: 'sliding' } });
    expect(sliding.status).toBe(201);
    expect(sliding.body.max_lifetime_at).toBe(parent.expires_at);
    const explicit = await gw.api('POST', '/api/v1/tokens', { token: parent.token, body: { name: 'too long', expires_in: '20d' } });
    expect(explicit.status).toBe(400);
    expect(explicit.body.error_description).toMatch(/would outlive the token making this request/);
    // With a login (no ceiling) the default stays the configured one, without a notice.
    const plain = await gw.api('POST', '/api/v1/tokens', { token: owner, body: { name: 'plain' } });
    expect(plain.body.notice).toBeUndefined();
  });

  it('tessera user show NAME', async () => {
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'tom', password: 'tom-password', display_name: 'Tom T', email: 'tom@example.org' } });
    const cli = cliUser();
    try {
      expect((await cli.run(['login', '--server', gw.url, '-u', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD })).code).toBe(0);
      const shown = await cli.run(['user', 'show', 'tom']);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/Display name:\s+Tom T/);
      expect(shown.stdout).toMatch(/Source:\s+local/);
      expect(shown.stdout).toMatch(/Status:\s+enabled/);
      const missing = await cli.run(['user', 'show', 'nobody-here']);
      expect(missing.code).not.toBe(0);
    } finally {
      cli.dispose();
    }
  });
});
