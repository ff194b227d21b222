/**
 * An SSF push stream's `authorization_header` at rest: sealed with the KEK in Redis, yet sent in
 * clear to the receiver (a real receiver process on loopback); a header stored in clear by an
 * older Tessera still reaches the receiver, and is sealed when the streams are next read.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyEncryption } from '../../src/oauth/key-encryption.js';
import { CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { SSF_CLIENT, basic, startReceiver, type ReceiverProcess } from './receiver-process.js';

const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
const HEADER = `Bearer receiver-secret-${randomBytes(12).toString('hex')}`;

describe('SSF push authorization header at rest', () => {
  let gw: TestGateway;
  let receiver: ReceiverProcess;
  let redis: Redis;
  let receiverUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    receiverUrl = `http://127.0.0.1:${port}`;
    gw = await startTestGateway({
      reachableIssuer: true,
      keyEncryption: KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
      config: { clients: [{ ...CLIENT, resourceServer: true }, { ...SSF_CLIENT, ssf: true }] },
    });
    receiver = await startReceiver(port, gw.services.config.server.issuer!, SSF_CLIENT.id, `whsec_${randomBytes(32).toString('base64')}`);
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);
  afterAll(async () => {
    await redis?.quit();
    await gw?.stop();
    await receiver?.stop();
  });

  const ssf = (method: string, path: string, body?: unknown) => gw.api(method, path, { body, headers: { authorization: basic(SSF_CLIENT) } });
  const storedStreams = async () => (await redis.get(`${gw.prefix}set:ssf.streams`)) ?? '';
  const verified = async (streamId: string, state: string) => {
    expect((await ssf('POST', '/ssf/verify', { stream_id: streamId, state })).status).toBe(204);
    return receiver.waitFor((l) => l.kind === 'set' && l.payload.events?.[VERIFICATION]?.state === state, 20_000);
  };

  it('Redis holds the header sealed; the receiver gets it in clear', async () => {
    const created = await ssf('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${receiverUrl}/ssf`, authorization_header: HEADER } });
    expect(created.status).toBe(201);
    const raw = await storedStreams();
    expect(raw).toContain(created.body.stream_id);
    expect(raw).toContain('tessera-sealed:');
    expect(raw).not.toContain(HEADER.slice(7));
    expect((await verified(created.body.stream_id, 'sealed-1')).authorization).toBe(HEADER);
  });

  it('a header stored in clear by an older Tessera still works, and is sealed when next read', async () => {
    const streams = JSON.parse(await storedStreams()) as { delivery: { authorization_header?: string } }[];
    for (const s of streams) s.delivery.authorization_header = HEADER;
    await redis.set(`${gw.prefix}set:ssf.streams`, JSON.stringify(streams));
    expect(await storedStreams()).toContain(HEADER);
    const streamId = (await ssf('GET', '/ssf/streams')).body[0].stream_id as string;
    expect((await verified(streamId, 'clear-2')).authorization).toBe(HEADER);
    expect(await storedStreams()).not.toContain(HEADER.slice(7));
    expect((await verified(streamId, 'resealed-3')).authorization).toBe(HEADER);
  });
});
