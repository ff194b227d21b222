/**
 * What survives: RFC 8936 poll delivery (events wait until acknowledged), and push deliveries
 * while the receiver is down, across a gateway that stops and two gateways delivering from one
 * Redis: retried, delivered after the receiver is back, exactly once.
 */
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { SSF_CLIENT, basic, startReceiver, type ReceiverProcess } from './receiver-process.js';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const MINUTE = 60_000;
const RISC_DISABLED = 'https://schemas.openid.net/secevent/risc/event-type/account-disabled';

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('SSF poll delivery', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ reachableIssuer: true, config: { clients: [{ ...CLIENT, resourceServer: true }, { ...SSF_CLIENT, ssf: true }] } });
  }, 60_000);
  afterAll(() => gw?.stop());

  it('holds signed SETs for the receiver until it acknowledges them', async () => {
    const headers = { authorization: basic(SSF_CLIENT) };
    const stream = await gw.api('POST', '/ssf/streams', { headers, body: { delivery: { method: 'urn:ietf:rfc:8936' }, events_requested: [`${CAEP}credential-change`, `${CAEP}session-revoked`, RISC_DISABLED] } });
    expect(stream.status).toBe(201);
    const pollUrl = stream.body.delivery.endpoint_url as string;
    expect(pollUrl).toBe(`${gw.url}/ssf/poll/${stream.body.stream_id}`);
    const poll = (body: unknown) => gw.api('POST', new URL(pollUrl).pathname, { headers, body });
    expect((await poll({ returnImmediately: true })).body).toEqual({ sets: {}, moreAvailable: false });

    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'paula', password: 'paula-password', email: 'paula@example.org' } });
    const access = await gw.login('paula', 'paula-password');
    const token = await gw.api('POST', '/api/v1/tokens', { token: access, body: { name: 'ci' } });
    // A long poll started before the revoke answers with it.
    const started = Date.now();
    const waiting = poll({ maxEvents: 10 });
    await gw.api('DELETE', `/api/v1/tokens/${token.body.id}`, { token: access });
    let answer = (await waiting).body;
    // The creation came first; the revoke may come in this answer or the next.
    const jwks = createRemoteJWKSet(new URL(`${gw.url}/oauth2/jwks`));
    const received: Record<string, any>[] = [];
    for (let round = 0; round < 5; round++) {
      for (const [jti, set] of Object.entries(answer.sets as Record<string, string>)) {
        const { payload } = await jwtVerify(set, jwks, { issuer: gw.url, audience: SSF_CLIENT.id, typ: 'secevent+jwt' });
        expect(payload.jti).toBe(jti);
        received.push(payload);
      }
      if (received.some((p) => p.events && (p.events as any)[`${CAEP}credential-change`]?.change_type === 'revoke')) break;
      answer = (await poll({ maxEvents: 10, ack: Object.keys(answer.sets) })).body;
    }
    const revoke = received.find((p) => (p.events as any)[`${CAEP}credential-change`]?.change_type === 'revoke');
    expect(revoke?.sub_id).toMatchObject({ format: 'complex', token: { format: 'opaque', id: token.body.id } });
    expect(Date.now() - started).toBeLessThan(10_000);
    console.log(`SSF poll: revoke → SET in a long-poll answer: ${Date.now() - started} ms`);

    // Not acknowledged: still there. Acknowledged: gone.
    const again = (await poll({ returnImmediately: true })).body;
    expect(Object.keys(again.sets)).toContain(revoke!.jti);
    const after = (await poll({ returnImmediately: true, ack: Object.keys(again.sets) })).body;
    expect(after.sets).toEqual({});

    // An ended session and a disabled account come the same way.
    const second = await gw.login('paula', 'paula-password');
    await gw.api('POST', '/api/v1/logout', { token: second, body: {} });
    await gw.api('PATCH', '/api/v1/users/paula', { token: admin, body: { enabled: false } });
    const types = new Set<string>();
    let ack: string[] = [];
    for (let round = 0; round < 10 && !(types.has(`${CAEP}session-revoked`) && types.has(RISC_DISABLED)); round++) {
      const { sets } = (await poll({ maxEvents: 10, ack })).body as { sets: Record<string, string> };
      for (const set of Object.values(sets)) {
        const { payload } = await jwtVerify(set, jwks, { issuer: gw.url, audience: SSF_CLIENT.id, typ: 'secevent+jwt' });
        for (const type of Object.keys(payload.events as object)) types.add(type);
      }
      ack = Object.keys(sets);
    }
    expect(types).toContain(`${CAEP}session-revoked`);
    expect(types).toContain(RISC_DISABLED);
    // Another receiver cannot read this stream.
    expect((await gw.api('POST', new URL(pollUrl).pathname, { headers: { authorization: basic(CLIENT) }, body: {} })).status).toBe(403);
  });
});

describe('push delivery while the receiver is down, across gateways', () => {
  let a: TestGateway;
  let b: TestGateway;
  let c: TestGateway | undefined;
  let receiver: ReceiverProcess | undefined;
  let port: number;
  let same: Record<string, any>;
  let streamId: string;

  beforeAll(async () => {
    port = await freePort();
    const config = {
      clients: [{ ...CLIENT, resourceServer: true }, { ...SSF_CLIENT, ssf: true }],
      webhooks: [{ id: 'hooks', url: `http://127.0.0.1:${port}/webhook`, secret: WEBHOOK_SECRET }],
      // Short back-off: moving the clocks a minute makes every retry due.
      signals: { maxBackoff: '5s' },
    };
    a = await startTestGateway({ reachableIssuer: true, config });
    // The same deployment: one issuer, one Redis prefix (keys, streams, queues shared).
    same = { ...config, server: { port: 0, host: '127.0.0.1', issuer: a.services.config.server.issuer } };
    b = await startTestGateway({ prefix: a.prefix, config: same });
    c = undefined;
    receiver = await startReceiver(port, a.services.config.server.issuer!, SSF_CLIENT.id, WEBHOOK_SECRET);
    const stream = await a.api('POST', '/ssf/streams', { headers: { authorization: basic(SSF_CLIENT) }, body: { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `http://127.0.0.1:${port}/ssf` } } });
    expect(stream.status).toBe(201);
    streamId = stream.body.stream_id;
  }, 60_000);
  afterAll(async () => {
    await receiver?.stop();
    await c?.close();
    await b?.close();
    await a?.stop();
  });

  it('retries, survives the gateway that queued it, and delivers once when the receiver is back', async () => {
    const admin = await b.login('admin', ADMIN_PASSWORD);
    await b.api('POST', '/api/v1/users', { token: admin, body: { username: 'dora', password: 'dora-password' } });
    const access = await b.login('dora', 'dora-password');
    const token = await b.api('POST', '/api/v1/tokens', { token: access, body: { name: 'ci' } });
    const queue = `ssf.${streamId}`;
    await until(async () => (await a.services.store.outboxSize(queue)) === 0 && (await a.services.store.outboxSize('wh.hooks')) === 0, 'the creation events to go out');

    await receiver!.stop();
    receiver = undefined;
    expect((await b.api('DELETE', `/api/v1/tokens/${token.body.id}`, { token: access })).status).toBe(200);
    // Tried, failed, scheduled again: the receiver is down.
    const waiting = await until(async () => (await a.services.store.outboxPeek(queue, 10)).find((i) => i.attempts >= 1), 'a failed attempt');
    await until(async () => {
      const log = await a.api('GET', '/api/v1/admin/webhooks/hooks/deliveries', { token: admin });
      return log.body.deliveries?.some((d: any) => d.outcome === 'retrying' && d.error === 'connection');
    }, 'the webhook retry in the delivery log');

    // The gateway that queued it stops; another starts: two gateways deliver from now on.
    await b.close();
    c = await startTestGateway({ prefix: a.prefix, config: same });
    receiver = await startReceiver(port, a.services.config.server.issuer!, SSF_CLIENT.id, WEBHOOK_SECRET);
    // Past any back-off, on both clocks at once.
    a.clock.advance(MINUTE);
    c.clock.advance(MINUTE);
    const set = await receiver.waitFor((l) => l.kind === 'set' && l.payload.jti === waiting.id);
    expect(set.payload.events[`${CAEP}credential-change`].change_type).toBe('revoke');
    await receiver.waitFor((l) => l.kind === 'webhook' && l.body.data.token_id === token.body.id && l.body.data.change_type === 'revoke');
    await until(async () => (await a.services.store.outboxSize(queue)) === 0 && (await a.services.store.outboxSize('wh.hooks')) === 0, 'empty queues');
    // Several more rounds of both workers: nothing is sent twice.
    a.clock.advance(MINUTE);
    c.clock.advance(MINUTE);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.lines.filter((l) => l.kind === 'set' && l.payload.jti === waiting.id)).toHaveLength(1);
    const hooks = receiver.lines.filter((l) => l.kind === 'webhook');
    expect(new Set(hooks.map((h) => h.id)).size).toBe(hooks.length);
    expect(hooks.filter((h) => h.body.data.token_id === token.body.id && h.body.data.change_type === 'revoke')).toHaveLength(1);
    expect(receiver.lines.filter((l) => l.kind === 'webhook-refused' || l.kind === 'rejected')).toEqual([]);
  });
});
