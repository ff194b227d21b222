import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, NON_RS_CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { FakeCiIssuer, newSigningKey, unsecuredToken, type SigningKey } from '../helpers/fake-ci-issuer.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const AUDIENCE = 'https://tessera.test';
const MAIN = { repository: 'acme/models', ref: 'refs/heads/main', aud: AUDIENCE };
const CLUSTER = 'https://kubernetes.cluster.internal';
const DEPLOYER = { id: 'deployer', secret: 'deployer-secret-0123456789abcdef' };

describe('RFC 8693 workload identity token exchange', () => {
  let ci: FakeCiIssuer;
  let downIssuer: FakeCiIssuer;
  let gw: TestGateway;
  let admin: string;
  let clusterKey: SigningKey;
  let nobody: string;

  const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
    gw.api('POST', '/oauth2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: EXCHANGE, subject_token: subjectToken, subject_token_type: ID_TOKEN, ...extra }).toString(),
    });
  const token = (claims: Record<string, unknown>, options: Parameters<FakeCiIssuer['token']>[1] = {}) => ci.token(claims, { now: gw.clock.now, ...options });

  beforeAll(async () => {
    ci = await new FakeCiIssuer().start();
    downIssuer = await new FakeCiIssuer().start();
    downIssuer.down = true;
    // An air-gapped cluster: its keys only in a file, never fetched.
    nobody = `http://127.0.0.1:${await freePort()}`; // an issuer whose host refuses connections
    clusterKey = await newSigningKey();
    const jwksFile = join(mkdtempSync(join(tmpdir(), 'tessera-jwks-')), 'cluster-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [clusterKey.publicJwk] }));
    const issuer = (url: string, rules: object[]) => ({ issuer: url, audience: AUDIENCE, refreshCooldown: 0, fetchTimeout: '3s', rules });
    gw = await startTestGateway({
      config: {
        clients: [{ ...CLIENT, resourceServer: true }, NON_RS_CLIENT, { ...DEPLOYER, allowedScopes: ['read'] }],
        workloadIdentity: {
          maxLifetime: '30m',
          issuers: [
            issuer(ci.url, [
              { name: 'models deploy', claims: { repository: 'acme/models', ref: 'refs/heads/main' }, user: 'svc-deploy', scopes: ['resource:models:rw', 'read'], lifetime: '10m' },
              { claims: { repository: ['acme/docs', 'acme/web-*'] }, user: 'svc-deploy', scopes: ['read'] },
              { claims: { environment: 'production' }, user: 'admin', scopes: ['read'] },
              { claims: { repository: 'acme/retired' }, user: 'svc-retired', scopes: ['read'] },
            ]),
            issuer(downIssuer.url, [{ claims: { repository: 'acme/models' }, user: 'svc-deploy', scopes: ['read'] }]),
            issuer(nobody, [{ claims: { repository: 'acme/models' }, user: 'svc-deploy', scopes: ['read'] }]),
            { issuer: CLUSTER, audience: AUDIENCE, jwksFile, rules: [{ claims: { sub: 'system:serviceaccount:ci:builder' }, user: 'svc-deploy', scopes: ['resource:artifacts:w'] }] },
          ],
        },
      },
    });
    admin = await gw.login('admin', ADMIN_PASSWORD);
    for (const username of ['svc-deploy', 'svc-retired']) {
      const res = await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: 'service-password-1' } });
      expect(res.status).toBe(201);
    }
    expect((await gw.api('PATCH', '/api/v1/users/svc-retired', { token: admin, body: { enabled: false } })).status).toBe(200);
  });
  afterAll(async () => {
    await gw?.stop();
    await ci?.stop();
    await downIssuer?.stop();
  });

  it('a matching job token gets a scoped, short-lived, non-refreshable PAT that introspects active', async () => {
    const res = await exchange(await token(MAIN));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^tsr_[0-9A-Za-z]{50}$/),
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'read resource:models:rw',
    });
    expect(res.body.refresh_token).toBeUndefined();

    const introspected = await gw.introspect(res.body.access_token);
    expect(introspected.body).toMatchObject({ active: true, username: 'svc-deploy', scope: 'read resource:models:rw', token_name: 'workload: models deploy' });
    expect(introspected.body.exp).toBe(Math.floor((gw.clock.now + 600_000) / 1000));

    // Listed under its user, described by the workload's claims.
    const listed = await gw.api('GET', '/api/v1/tokens?user=svc-deploy', { token: admin });
    const mine = listed.body.tokens.find((t: { name: string }) => t.name === 'workload: models deploy');
    expect(mine.description).toContain(`workload identity from ${ci.url}`);
    expect(mine.description).toContain('repository=acme/models');
    expect(mine.description).toContain('ref=refs/heads/main');
  });

  it('list and glob conditions match; the requested scope may narrow the rule, never widen it', async () => {
    expect((await exchange(await token({ ...MAIN, repository: 'acme/web-shop' }))).body.scope).toBe('read');
    expect((await exchange(await token({ ...MAIN, repository: 'acme/docs' }))).status).toBe(200);
    const narrowed = await exchange(await token(MAIN), { scope: 'read' });
    expect(narrowed.body.scope).toBe('read');
    const widened = await exchange(await token(MAIN), { scope: 'read write' });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');
  });

  it('the issued token cannot exceed the mapped user: no admin rights, no wider tokens', async () => {
    const viaAdminRule = (await exchange(await token({ ...MAIN, repository: 'acme/other', environment: 'production' }))).body.access_token;
    expect((await gw.api('GET', '/api/v1/users', { token: viaAdminRule })).status).toBe(403);
    const deploy = (await exchange(await token(MAIN))).body.access_token;
    const wider = await gw.api('POST', '/api/v1/tokens', { token: deploy, body: { name: 'escalate', scopes: 'resource:billing:rw' } });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    const disabled = await exchange(await token({ ...MAIN, repository: 'acme/retired' }));
    expect(disabled.status).toBe(400);
    expect(disabled.body.error_description).toMatch(/disabled/);
  });

  it('refuses wrong audience, wrong issuer, expired, alg none, no matching rule, and a replayed jti', async () => {
    const tokensBefore = (await gw.api('GET', '/api/v1/tokens?user=svc-deploy', { token: admin })).body.tokens.length;
    const stranger = await newSigningKey();
    const cases: [string, string, RegExp][] = [
      ['wrong audience', await token({ ...MAIN, aud: 'https://elsewhere.example' }), /aud/],
      ['wrong issuer', await token({ ...MAIN, iss: 'https://token.actions.githubusercontent.com' }), /not from a trusted workload issuer/],
      ['expired', await token(MAIN, { now: gw.clock.now - 3_600_000 }), /expired/],
      ['issued in the future', await token(MAIN, { now: gw.clock.now + 600_000 }), /nbf|iat/],
      ['alg none', unsecuredToken({ ...MAIN, iss: ci.url, jti: 'x', sub: 's', iat: Math.floor(gw.clock.now / 1000), exp: Math.floor(gw.clock.now / 1000) + 60 }), /algorithm/],
      ['forged with another key under a published kid', await token(MAIN, { key: { ...stranger, kid: ci.published[0]!.kid } }), /signature/],
      ['no matching rule', await token({ ...MAIN, repository: 'evil/models' }), /no workload rule/],
      ['claim given as a list', await token({ ...MAIN, repository: ['acme/models'] }), /no workload rule/],
      ['not a JWT', 'not-a-jwt', /not a JWT/],
    ];
    for (const [name, subject, reason] of cases) {
      const res = await exchange(subject);
      expect(res.status, name).toBe(400);
      expect(res.body.error, name).toBe('invalid_request');
      expect(res.body.error_description, name).toMatch(reason);
    }
    const once = await token(MAIN);
    expect((await exchange(once)).status).toBe(200);
    const replay = await exchange(once);
    expect(replay.status).toBe(400);
    expect(replay.body.error_description).toMatch(/already been exchanged/);
    // Exactly one token came of all of this: the first use of `once`.
    expect((await gw.api('GET', '/api/v1/tokens?user=svc-deploy', { token: admin })).body.tokens.length).toBe(tokensBefore + 1);
  });

  it('an unknown kid makes Tessera fetch the JWKS again: a rotated key works, an unpublished one is refused', async () => {
    const rotated = await newSigningKey();
    ci.published.push(rotated);
    let fetches = ci.jwksFetches;
    expect((await exchange(await token(MAIN, { key: rotated }))).status).toBe(200);
    expect(ci.jwksFetches).toBe(fetches + 1);

    fetches = ci.jwksFetches;
    const res = await exchange(await token(MAIN, { key: await newSigningKey() }));
    expect(ci.jwksFetches).toBe(fetches + 1);
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(/no signing key .* matches the subject_token's kid/);
  });

  it('a fixed JWKS file (air-gapped cluster) verifies a Kubernetes service account token', async () => {
    const sa = { iss: CLUSTER, aud: AUDIENCE, sub: 'system:serviceaccount:ci:builder' };
    const res = await exchange(await token(sa, { key: clusterKey }));
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('resource:artifacts:w');
    expect((await exchange(await token({ ...sa, sub: 'system:serviceaccount:ci:other' }, { key: clusterKey }))).status).toBe(400);
    expect((await exchange(await token(sa, { key: await newSigningKey(clusterKey.kid) }))).body.error_description).toMatch(/signature/);
  });

  it('JWKS endpoint down: a clear 503, no token', async () => {
    const subject = await downIssuer.token({ ...MAIN }, { now: gw.clock.now });
    const res = await exchange(subject);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: `the signing keys of ${downIssuer.url} could not be fetched` });
    expect(downIssuer.jwksFetches).toBeGreaterThan(0);
    expect(res.body.access_token).toBeUndefined();

    const refused = await exchange(await token({ ...MAIN, iss: nobody }));
    expect(refused.status).toBe(503);
    expect(refused.body.error_description).toBe(`the signing keys of ${nobody} could not be fetched`);
  });

  it('concurrent exchanges of one identity token: exactly one wins', async () => {
    const subject = await token(MAIN);
    const answers = await Promise.all(Array.from({ length: 6 }, () => exchange(subject)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400 && /already been exchanged/.test(a.body.error_description))).toHaveLength(5);
  });

  it('discovery lists the token exchange grant', async () => {
    const meta = (await gw.api('GET', '/.well-known/openid-configuration')).body;
    expect(meta.grant_types_supported).toContain(EXCHANGE);
    expect(meta.grant_types_supported).toContain('client_credentials');
  });

  it('a client that authenticates is held to its allowedScopes; the refused request does not use up the job token', async () => {
    const job = await token(MAIN);
    const refused = await exchange(job, { client_id: DEPLOYER.id, client_secret: DEPLOYER.secret });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'invalid_scope', error_description: 'the client may not obtain scope resource:models:rw' });
    const none = await exchange(job, { client_id: NON_RS_CLIENT.id, client_secret: NON_RS_CLIENT.secret, scope: 'read' });
    expect(none.body.error).toBe('invalid_scope');
    const narrowed = await exchange(job, { client_id: DEPLOYER.id, client_secret: DEPLOYER.secret, scope: 'read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('read');
  });

  it('bad requests change nothing; presented client credentials must be valid; other grants still reach the provider', async () => {
    const missing = await gw.api('POST', '/oauth2/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=${encodeURIComponent(EXCHANGE)}` });
    expect(missing.body).toEqual({ error: 'invalid_request', error_description: 'subject_token is required' });
    const wrongType = await exchange(await token(MAIN), { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' });
    expect(wrongType.body.error).toBe('invalid_request');
    const badClient = await exchange(await token(MAIN), { client_id: NON_RS_CLIENT.id, client_secret: 'wrong-secret-0123456789' });
    expect(badClient.status).toBe(401);
    expect(badClient.body.error).toBe('invalid_client');

    const cc = await gw.api('POST', '/oauth2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${NON_RS_CLIENT.id}:${NON_RS_CLIENT.secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(cc.status).toBe(200);
    expect(cc.body.access_token).toEqual(expect.any(String));
  });
});
