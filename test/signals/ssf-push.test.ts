/**
 * SSF push (RFC 8935) and webhooks end to end: a real gateway, a real receiver process on
 * loopback that verifies each SET with jose against the gateway's JWKS and each webhook's
 * Standard Webhooks signature. The shapes are checked against SSF 1.0 / RFC 8417 / CAEP / RISC.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { SSF_CLIENT, basic, startReceiver, type ReceiverProcess } from './receiver-process.js';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe('SSF push delivery and webhooks', () => {
  let gw: TestGateway;
  let receiver: ReceiverProcess;
  let admin: string;
  let receiverUrl: string;
  const latencies: number[] = [];

  beforeAll(async () => {
    const port = await freePort();
    receiverUrl = `http://127.0.0.1:${port}`;
    gw = await startTestGateway({
      reachableIssuer: true,
      config: {
        clients: [{ ...CLIENT, resourceServer: true }, { ...SSF_CLIENT, ssf: true }],
        webhooks: [{ id: 'hooks', url: `${receiverUrl}/webhook`, secret: WEBHOOK_SECRET }],
      },
    });
    receiver = await startReceiver(port, gw.services.config.server.issuer!, SSF_CLIENT.id, WEBHOOK_SECRET);
    admin = await gw.login('admin', ADMIN_PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await receiver?.stop();
    if (latencies.length) console.log(`SSF push: action answered → receiver verified the SET: ${latencies.join(', ')} ms`);
  });

  const ssf = (method: string, path: string, body?: unknown) => gw.api(method, path, { body, headers: { authorization: basic(SSF_CLIENT) } });

  it('publishes its SSF configuration', async () => {
    const res = await gw.api('GET', '/.well-known/ssf-configuration');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      spec_version: '1_0',
      issuer: gw.services.config.server.issuer,
      jwks_uri: `${gw.services.config.server.issuer}/oauth2/jwks`,
      delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'],
      configuration_endpoint: `${gw.services.config.server.issuer}/ssf/streams`,
    });
  });

  it('lets only SSF receivers manage streams', async () => {
    expect((await gw.api('POST', '/ssf/streams', { body: {}, headers: { authorization: basic(CLIENT) } })).status).toBe(403);
    expect((await gw.api('POST', '/ssf/streams', { body: {}, headers: { authorization: basic({ ...SSF_CLIENT, secret: 'wrong-secret-0123456789abcdef' }) } })).status).toBe(401);
    expect((await gw.api('POST', '/ssf/streams', { body: {} })).status).toBe(401);
    const bad = await ssf('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'not a url' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    expect((await ssf('GET', '/ssf/streams')).body).toEqual([]);
  });

  let streamId: string;

  it('creates a push stream and sends the verification event through it', async () => {
    const created = await ssf('POST', '/ssf/streams', {
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${receiverUrl}/ssf`, authorization_header: 'Bearer receiver-side-secret' },
      description: 'downstream cache',
    });
    expect(created.status).toBe(201);
    streamId = created.body.stream_id;
    expect(created.body).toMatchObject({ iss: gw.services.config.server.issuer, aud: SSF_CLIENT.id, delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${receiverUrl}/ssf` } });
    expect(created.body.delivery.authorization_header).toBeUndefined();
    expect(created.body.events_delivered).toContain(`${CAEP}session-revoked`);
    expect((await ssf('GET', `/ssf/streams?stream_id=${streamId}`)).body.stream_id).toBe(streamId);
    expect((await ssf('GET', `/ssf/status?stream_id=${streamId}`)).body).toEqual({ stream_id: streamId, status: 'enabled' });
    const audit = await gw.api('GET', '/api/v1/audit?type=ssf.stream_changed', { token: admin });
    expect(JSON.stringify(audit.body)).toContain(streamId);
    expect(JSON.stringify(audit.body)).not.toContain('receiver-side-secret');

    expect((await ssf('POST', '/ssf/verify', { stream_id: streamId, state: 'hello-42' })).status).toBe(204);
    const line = await receiver.waitFor((l) => l.kind === 'set' && l.payload.events?.['https://schemas.openid.net/secevent/ssf/event-type/verification']);
    expect(line.payload.events['https://schemas.openid.net/secevent/ssf/event-type/verification']).toEqual({ state: 'hello-42' });
    expect(line.payload.sub_id).toEqual({ format: 'opaque', id: streamId });
    expect(line.contentType).toBe('application/secevent+jwt');
    expect(line.authorization).toBe('Bearer receiver-side-secret');
  });

  it('a revoked PAT reaches the receiver as a signed credential-change naming the token', async () => {
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'rita', password: 'rita-password', email: 'rita@example.org' } });
    const access = await gw.login('rita', 'rita-password');
    const created = await gw.api('POST', '/api/v1/tokens', { token: access, body: { name: 'ci', expires_in: '30d' } });
    const tokenId = created.body.id as string;
    const from = receiver.lines.length;
    const started = Date.now();
    expect((await gw.api('DELETE', `/api/v1/tokens/${tokenId}`, { token: access })).status).toBe(200);
    const line = await receiver.waitFor((l) => l.kind === 'set' && l.payload.sub_id?.token?.id === tokenId && l.payload.events[`${CAEP}credential-change`]?.change_type === 'revoke', 20_000, from);
    latencies.push(line.at - started);
    // "Within a second" with room for a loaded machine: far below any introspection cache TTL.
    expect(line.at - started).toBeLessThan(5_000);

    const { header, payload } = line;
    expect(header).toMatchObject({ typ: 'secevent+jwt', alg: 'RS256' });
    expect(header.kid).toBe(gw.oidc.currentSigningKey().kid);
    expect(payload.iss).toBe(gw.services.config.server.issuer);
    expect(payload.aud).toBe(SSF_CLIENT.id);
    expect(payload.jti).toMatch(/^evt_\w+\.\d+$/);
    expect(payload.txn).toBe(payload.jti.split('.')[0]);
    expect(Number.isInteger(payload.iat)).toBe(true);
    expect(payload.sub).toBeUndefined(); // SSF §4.1.2: the subject is sub_id, not sub
    const user = await gw.services.store.findUserByName('rita');
    expect(payload.sub_id).toEqual({
      format: 'complex',
      user: { format: 'aliases', identifiers: [{ format: 'iss_sub', iss: gw.services.config.server.issuer, sub: user!.id }, { format: 'email', email: 'rita@example.org' }] },
      token: { format: 'opaque', id: tokenId },
    });
    expect(Object.keys(payload.events)).toEqual([`${CAEP}credential-change`]);
    expect(payload.events[`${CAEP}credential-change`]).toMatchObject({ credential_type: 'personal-access-token', change_type: 'revoke', initiating_entity: 'user' });
    expect(Number.isInteger(payload.events[`${CAEP}credential-change`].event_timestamp)).toBe(true);
    // One txn per action: the audit event the SET came from.
    const audit = await gw.api('GET', `/api/v1/audit?type=token.revoked`, { token: admin });
    expect(JSON.stringify(audit.body)).toContain(payload.txn);
  });

  it('an ended session, a disabled user, a role change and a deletion each reach the receiver', async () => {
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'omar', password: 'omar-password' } });
    const omar = (await gw.services.store.findUserByName('omar'))!;
    const ofOmar = (uri: string) => (l: Record<string, any>) => l.kind === 'set' && l.payload.sub_id?.user?.identifiers?.[0]?.sub === omar.id && l.payload.events[uri];

    const access = await gw.login('omar', 'omar-password');
    let started = Date.now();
    expect((await gw.api('POST', '/api/v1/logout', { token: access, body: {} })).status).toBe(204);
    const ended = await receiver.waitFor(ofOmar(`${CAEP}session-revoked`));
    latencies.push(ended.at - started);
    expect(ended.payload.sub_id.session.format).toBe('opaque');

    started = Date.now();
    expect((await gw.api('PATCH', '/api/v1/users/omar', { token: admin, body: { enabled: false } })).status).toBe(200);
    const disabled = await receiver.waitFor(ofOmar(`${RISC}account-disabled`));
    latencies.push(disabled.at - started);
    expect(disabled.at - started).toBeLessThan(5_000);

    await gw.api('PATCH', '/api/v1/users/omar', { token: admin, body: { enabled: true } });
    await receiver.waitFor(ofOmar(`${RISC}account-enabled`));
    await gw.api('PATCH', '/api/v1/users/omar', { token: admin, body: { role: 'admin' } });
    const claims = await receiver.waitFor(ofOmar(`${CAEP}token-claims-change`));
    expect(claims.payload.events[`${CAEP}token-claims-change`].claims).toEqual({ role: 'admin' });
    await gw.api('DELETE', '/api/v1/users/omar', { token: admin });
    await receiver.waitFor(ofOmar(`${RISC}account-purged`));
  });

  it('sends the same events as signed webhooks, logged per endpoint', async () => {
    const hook = await receiver.waitFor((l) => l.kind === 'webhook' && l.body.type === 'account-purged');
    expect(hook.signature).toMatch(/^v1,/);
    expect(hook.body.data.user.username).toBe('omar');
    expect(receiver.lines.filter((l) => l.kind === 'webhook-refused')).toEqual([]);
    const revoked = receiver.lines.find((l) => l.kind === 'webhook' && l.body.type === 'credential-change' && l.body.data.change_type === 'revoke');
    expect(revoked?.body.data.token_id).toMatch(/\w/);

    const log = await gw.api('GET', '/api/v1/admin/webhooks/hooks/deliveries', { token: admin });
    expect(log.status).toBe(200);
    expect(log.body.deliveries.length).toBeGreaterThan(3);
    expect(log.body.deliveries.find((d: any) => d.id === hook.id)).toMatchObject({ outcome: 'delivered', status: 204, attempt: 1 });
    expect(JSON.stringify(log.body)).not.toContain(WEBHOOK_SECRET.slice(6, 20));
    expect((await gw.api('GET', '/api/v1/admin/webhooks/nope/deliveries', { token: admin })).status).toBe(404);
    const metrics = (await gw.services.metrics.render()).body;
    expect(metrics).toMatch(/tessera_signal_deliveries_total\{kind="webhook",outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(/tessera_signal_deliveries_total\{kind="ssf",outcome="delivered"\} [1-9]/);
    const rita = await gw.login('rita', 'rita-password');
    expect((await gw.api('GET', '/api/v1/admin/webhooks/hooks/deliveries', { token: rita })).status).toBe(403);
  });

  it('stops pushing to a paused stream and delivers what waited once enabled', async () => {
    expect((await ssf('POST', '/ssf/status', { stream_id: streamId, status: 'paused' })).body.status).toBe('paused');
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'pia', password: 'pia-password' } });
    await gw.api('PATCH', '/api/v1/users/pia', { token: admin, body: { enabled: false } });
    const pia = (await gw.services.store.findUserByName('pia'))!;
    const isPia = (l: Record<string, any>) => l.kind === 'set' && l.payload.sub_id?.user?.identifiers?.[0]?.sub === pia.id;
    // The webhook (not paused) gets it; the stream holds it.
    await receiver.waitFor((l) => l.kind === 'webhook' && l.body.data.user.id === pia.id);
    expect(receiver.lines.filter(isPia)).toEqual([]);
    expect(await gw.services.store.outboxSize(`ssf.${streamId}`)).toBe(1);
    await ssf('POST', '/ssf/status', { stream_id: streamId, status: 'enabled' });
    await receiver.waitFor(isPia);
    expect((await ssf('DELETE', `/ssf/streams?stream_id=${streamId}`)).status).toBe(204);
    expect((await ssf('GET', `/ssf/streams?stream_id=${streamId}`)).status).toBe(404);
  });
});
