import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, NON_RS_CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('RFC 7662 introspection, RFC 7009 revocation, forward auth', () => {
  let gw: TestGateway;
  let admin: string;
  let pat: { id: string; token: string };

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.login('admin', ADMIN_PASSWORD);
    pat = (await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'pipeline', scopes: 'read resource:bucket:r' } })).body;
  });
  afterAll(() => gw?.stop());

  it('an active PAT: RFC 7662 members plus name and user source, no-store', async () => {
    const res = await gw.introspect(pat.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const admin = await gw.services.users.get('admin');
    expect(res.body).toEqual({
      active: true,
      scope: 'read resource:bucket:r',
      token_type: 'Bearer',
      exp: expect.any(Number),
      iat: Math.floor(gw.clock.now / 1000),
      iss: 'https://tessera.test',
      sub: admin.id,
      username: 'admin',
      jti: pat.id,
      token_use: 'personal_access_token',
      token_name: 'pipeline',
      user_source: 'local',
    });
  });

  it('client_secret_post works as well as client_secret_basic', async () => {
    const res = await gw.api('POST', '/oauth2/introspect', { headers: FORM, body: form({ token: pat.token, client_id: CLIENT.id, client_secret: CLIENT.secret }) });
    expect(res.body.active).toBe(true);
  });

  it('unknown, malformed and garbage tokens are exactly {"active":false}', async () => {
    const lookalike = pat.token.slice(0, 20) + (pat.token[20] === 'A' ? 'B' : 'A') + pat.token.slice(21);
    // Login refresh tokens (tsrt_) introspect as active: test/oauth/revocation-and-introspection.test.ts.
    for (const token of ['tsr_' + 'A'.repeat(50), 'tsrt_' + 'A'.repeat(50), lookalike, 'garbage', '💥', 'x'.repeat(4000)]) {
      const res = await gw.introspect(token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  it('a login access token introspects as token_use "login"', async () => {
    const res = await gw.introspect(admin);
    expect(res.body).toMatchObject({ active: true, username: 'admin', token_use: 'login' });
    expect(res.body.exp).toBe(Math.floor((gw.clock.now + 300_000) / 1000));
  });

  it('client authentication is required: none, wrong secret, unknown client → 401 invalid_client', async () => {
    const none = await gw.api('POST', '/oauth2/introspect', { headers: FORM, body: form({ token: pat.token }) });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrong = await gw.api('POST', '/oauth2/introspect', { headers: { ...FORM, authorization: basic(CLIENT.id, 'wrong-secret-wrong-secret') }, body: form({ token: pat.token }) });
    expect(wrong.status).toBe(401);
    const unknown = await gw.api('POST', '/oauth2/introspect', { headers: { ...FORM, authorization: basic('nobody', CLIENT.secret) }, body: form({ token: pat.token }) });
    expect(unknown.status).toBe(401);
    const bearer = await gw.api('POST', '/oauth2/introspect', { headers: { ...FORM, authorization: `Bearer ${pat.token}` }, body: form({ token: pat.token }) });
    expect(bearer.status).toBe(401);
    const missing = await gw.api('POST', '/oauth2/introspect', { headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) }, body: form({}) });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  it('a client that is not a resource server learns nothing about PATs', async () => {
    const res = await gw.introspect(pat.token, NON_RS_CLIENT);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });

  it('forward auth: 200 with identity headers, scope demands, RFC 6750 challenges', async () => {
    const ok = await gw.api('GET', '/auth/verify', { token: pat.token });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-tessera-user')).toBe('admin');
    expect(ok.headers.get('x-tessera-scopes')).toBe('read resource:bucket:r');
    expect(ok.headers.get('x-tessera-token-id')).toBe(pat.id);
    const viaBasic = await gw.api('GET', '/auth/verify', { headers: { authorization: basic('admin', pat.token) } });
    expect(viaBasic.status).toBe(200);

    expect((await gw.api('GET', '/auth/verify?scope=resource:bucket:r', { token: pat.token })).status).toBe(200);
    const scope = await gw.api('GET', '/auth/verify?scope=resource:bucket:w', { token: pat.token });
    expect(scope.status).toBe(403);
    expect(scope.body.error).toBe('insufficient_scope');

    const none = await gw.api('GET', '/auth/verify');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
    const malformed = await gw.api('GET', '/auth/verify', { headers: { authorization: 'Bearer a b c' } });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const bad = await gw.api('GET', '/auth/verify', { token: 'tsr_' + 'B'.repeat(50) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer realm="tessera", error="invalid_token", error_description="[^"]+"$/);
  });

  it('RFC 7009: revocation answers 200 for known and unknown tokens, and the PAT is inactive after', async () => {
    const victim = (await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'leaked' } })).body;
    const revoke = (token: string) =>
      gw.api('POST', '/oauth2/revoke', { headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) }, body: form({ token, token_type_hint: 'access_token' }) });
    const res = await revoke(victim.token);
    expect(res.status).toBe(200);
    expect((await gw.introspect(victim.token)).body).toEqual({ active: false });
    const record = await gw.api('GET', `/api/v1/tokens/${victim.id}`, { token: admin });
    expect(record.body).toMatchObject({ status: 'revoked', revoked_by: `client:${CLIENT.id}` });
    expect((await revoke('tsr_' + 'C'.repeat(50))).status).toBe(200);
    expect((await revoke('not-even-a-token')).status).toBe(200);
    const unauth = await gw.api('POST', '/oauth2/revoke', { headers: FORM, body: form({ token: pat.token }) });
    expect(unauth.status).toBe(401);
    expect((await gw.introspect(pat.token)).body.active).toBe(true);
  });

  it('revoking a login refresh token ends that login', async () => {
    const pair = (await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).body;
    await gw.api('POST', '/oauth2/revoke', { headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) }, body: form({ token: pair.refresh_token }) });
    expect((await gw.api('GET', '/api/v1/me', { token: pair.access_token })).status).toBe(401);
  });
});
