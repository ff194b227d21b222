/**
 * /oauth2/revoke and /oauth2/introspect over real HTTP: only resource servers revoke users'
 * tokens; login refresh tokens introspect as `token_use: refresh`; client authentication fails
 * the same way whatever the token; `secretHash` clients get a plain answer for provider tokens;
 * a 403 insufficient_scope names the scope in its RFC 6750 challenge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { hashPassword } from '../../src/identity/passwords.js';
import { ADMIN_PASSWORD, CLIENT, NON_RS_CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const HASHED = { id: 'hashed-api', secret: 'hashed-api-secret-0123456789abcd' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

describe('revocation and introspection for every token kind', () => {
  let gw: TestGateway;
  let alice: string;

  beforeAll(async () => {
    gw = await startTestGateway({
      config: {
        clients: [{ ...CLIENT, resourceServer: true }, NON_RS_CLIENT, { id: HASHED.id, secretHash: await hashPassword(HASHED.secret, 1 << 12), resourceServer: true }],
      },
    });
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: 'alice-password' } });
    alice = await gw.login('alice', 'alice-password');
  });
  afterAll(() => gw?.stop());

  const revoke = (token: string, client?: { id: string; secret: string }) =>
    gw.api('POST', '/oauth2/revoke', { headers: { ...FORM, ...(client ? { authorization: basic(client) } : {}) }, body: new URLSearchParams({ token }).toString() });

  it('only resource servers may revoke a user\'s PAT; others get unsupported_token_type, known token or not', async () => {
    const pat = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'kept' } })).body.token as string;
    for (const token of [pat, `tsr_${'D'.repeat(50)}`]) {
      const refused = await revoke(token, NON_RS_CLIENT);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error: 'unsupported_token_type', error_description: 'only resource servers may revoke users\' tokens' });
    }
    expect((await gw.introspect(pat)).body.active).toBe(true);
    expect((await revoke(pat, CLIENT)).status).toBe(200);
    expect((await gw.introspect(pat)).body).toEqual({ active: false });
  });

  it('a login refresh token introspects active with token_use refresh, until rotated out or logged out', async () => {
    const first = (await gw.api('POST', '/api/v1/login', { body: { username: 'alice', password: 'alice-password' } })).body;
    const active = await gw.introspect(first.refresh_token);
    expect(active.body).toMatchObject({ active: true, token_use: 'refresh', username: 'alice', scope: '' });
    expect(active.body.exp).toBe(Math.floor((gw.clock.now + 30 * 86_400_000) / 1000));
    // Not for clients that are not resource servers.
    expect((await gw.introspect(first.refresh_token, NON_RS_CLIENT)).body).toEqual({ active: false });

    const second = (await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token: first.refresh_token } })).body;
    expect((await gw.introspect(first.refresh_token)).body).toEqual({ active: false });
    expect((await gw.introspect(second.refresh_token)).body.active).toBe(true);
    await revoke(second.refresh_token, CLIENT);
    expect((await gw.introspect(second.refresh_token)).body).toEqual({ active: false });
  });

  it('the same 401 invalid_client with a Basic challenge whatever the token kind', async () => {
    const tokens = ['tsr_' + 'E'.repeat(50), 'an-opaque-provider-token-0123456789', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'];
    for (const path of ['/oauth2/introspect', '/oauth2/revoke']) {
      for (const token of tokens) {
        for (const authorization of [undefined, basic({ id: CLIENT.id, secret: 'wrong-secret-0123456789abcdef' })]) {
          const res = await gw.api('POST', path, { headers: { ...FORM, ...(authorization ? { authorization } : {}) }, body: new URLSearchParams({ token }).toString() });
          expect(res.status, `${path} ${token.slice(0, 10)}`).toBe(401);
          expect(res.body.error).toBe('invalid_client');
          expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
        }
      }
    }
  });

  it('a secretHash client gets exactly {"active":false} for provider tokens, and cannot be given resources', async () => {
    const res = await gw.introspect('an-opaque-provider-token-0123456789', HASHED);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
    expect((await revoke('an-opaque-provider-token-0123456789', HASHED)).status).toBe(200);
    // Its own business, PATs, still works.
    const pat = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'for hashed' } })).body.token as string;
    expect((await gw.introspect(pat, HASHED)).body.active).toBe(true);
    const hash = await hashPassword(HASHED.secret, 1 << 12);
    expect(() => parseConfig({ clients: [{ id: 'x', secretHash: hash, resources: ['https://api.example.org'] }] })).toThrow(/secretHash client cannot serve or obtain provider tokens/);
  });

  it('403 insufficient_scope from forward auth names the scope in WWW-Authenticate', async () => {
    const scoped = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'reader', scopes: 'read' } })).body.token as string;
    const res = await gw.api('GET', '/auth/verify?scope=write', { token: scoped });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera", error="insufficient_scope", scope="write"');
    expect((await gw.api('GET', '/auth/verify?scope=read', { token: scoped })).status).toBe(200);
  });
});
