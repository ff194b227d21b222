import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, NON_RS_CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const JWT_TYPE = 'application/token-introspection+jwt';
const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

describe('RFC 9701 signed introspection answers', () => {
  let gw: TestGateway;
  let pat: string;

  const introspectSigned = (token: string, client = CLIENT) =>
    fetch(`${gw.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: JWT_TYPE, authorization: basic(client) },
      body: new URLSearchParams({ token }).toString(),
    });
  const verify = async (jwt: string, audience: string) => {
    const jwks = createLocalJWKSet(await (await fetch(`${gw.url}/oauth2/jwks`)).json());
    return jwtVerify(jwt, jwks, { issuer: 'https://tessera.test', audience, typ: 'token-introspection+jwt', currentDate: new Date(gw.clock.now) });
  };

  beforeAll(async () => {
    gw = await startTestGateway();
    pat = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  it('a PAT: the RFC 7662 answer inside a JWT signed with the provider key in JWKS', async () => {
    const res = await introspectSigned(pat);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const jwt = await res.text();
    const { payload, protectedHeader } = await verify(jwt, CLIENT.id);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'token-introspection+jwt' });
    expect(payload.iat).toBe(Math.floor(gw.clock.now / 1000));
    expect(payload.token_introspection).toEqual((await gw.introspect(pat)).body);
    expect(payload.token_introspection).toMatchObject({ active: true, username: 'admin' });
  });

  it('an unknown token is a signed {active:false}; without the Accept header the answer stays JSON', async () => {
    const { payload } = await verify(await (await introspectSigned('tsr_' + 'A'.repeat(50))).text(), CLIENT.id);
    expect(payload.token_introspection).toEqual({ active: false });
    expect((await gw.introspect(pat)).headers.get('content-type')).toMatch(/application\/json/);
  });

  it('a provider access token is signed the same way by oidc-provider', async () => {
    const issued = await fetch(`${gw.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(NON_RS_CLIENT) },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await issued.json()) as { access_token: string };
    const res = await introspectSigned(access_token, NON_RS_CLIENT);
    expect(res.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt/);
    const jwt = await res.text();
    expect(decodeProtectedHeader(jwt).typ).toBe('token-introspection+jwt');
    const { payload } = await verify(jwt, NON_RS_CLIENT.id);
    expect(payload.token_introspection).toMatchObject({ active: true, client_id: NON_RS_CLIENT.id });
  });

  it('across a key rotation the answer is signed with the key this instance signs with, which it serves in JWKS', async () => {
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    const rotated = await gw.api('POST', '/api/v1/admin/keys/rotate', { token: admin });
    expect(rotated.status).toBe(200);
    // Published at once, signing only after oidc.keyActivationDelay: the old key still signs.
    const before = await (await introspectSigned(pat)).text();
    expect(decodeProtectedHeader(before).kid).not.toBe(rotated.body.signing_kid);
    expect((await verify(before, CLIENT.id)).payload.token_introspection).toMatchObject({ active: true });

    gw.clock.advance(Date.parse(rotated.body.activates_at) - gw.clock.now + 1000);
    await gw.oidc.reloadIfChanged();
    const after = await (await introspectSigned(pat)).text();
    expect(decodeProtectedHeader(after).kid).toBe(rotated.body.signing_kid);
    expect((await verify(after, CLIENT.id)).payload.token_introspection).toMatchObject({ active: true });
  });

  it('discovery advertises introspection_signing_alg_values_supported', async () => {
    const meta = (await (await fetch(`${gw.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.introspection_signing_alg_values_supported).toContain('RS256');
  });
});
