/**
 * The SSF 1.0 transmitter's HTTP side: the configuration metadata (§7.1), the stream management
 * API (§8.1: configuration, status, verification) and RFC 8936 poll delivery. Callers are
 * receivers: OAuth clients with `ssf: true`, authenticating as at introspection
 * (`client_secret_basic`, RFC 6749 §2.3.1); each sees and changes only its own streams.
 */
import type { Context, Next } from 'koa';
import { z } from 'zod';
import type { Services } from '../../services.js';
import type { ClientConfig } from '../../config/schema.js';
import { Forbidden, InvalidClient, InvalidRequest } from '../../errors.js';
import { setRequestActor } from '../../audit/context.js';
import { ApiRouter } from '../api-router.js';
import { formDecode, readAuthorization } from '../credentials.js';
import { EVENTS_SUPPORTED, POLL, PUSH, streamQueue, type Stream } from '../../signals/streams.js';
import { signSet, verificationClaims } from '../../signals/set.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import type { QueuedDelivery } from '../../signals/publisher.js';
import { randomBase62 } from '../../ids.js';
import { parseInput } from '../validate.js';

/** Longest an RFC 8936 long poll waits for an event before answering with none. */
const LONG_POLL_MS = 10_000;
const MAX_EVENTS = 100;

const streamId = z.string().min(1, { error: 'is required' });
/** SSF §8.1.1: what a receiver asks for; the service checks methods, URLs and event types. */
const StreamRequest = z.looseObject({
  delivery: z
    .looseObject({
      method: z.string().optional().describe(`${PUSH} or ${POLL} (default poll)`),
      endpoint_url: z.string().optional().describe('push: where to deliver'),
      authorization_header: z.string().optional().describe('push: sent as Authorization with each delivery'),
    })
    .optional(),
  events_requested: z.array(z.string()).optional().describe('event type URIs'),
  description: z.string().optional(),
});
const StreamUpdate = StreamRequest.extend({ stream_id: streamId });
const StreamConfig = z
  .object({
    stream_id: z.string(),
    iss: z.string(),
    aud: z.string(),
    delivery: z.object({ method: z.string(), endpoint_url: z.string().optional() }),
    events_supported: z.array(z.string()),
    events_requested: z.array(z.string()),
    events_delivered: z.array(z.string()),
    description: z.string().optional(),
  })
  .meta({ id: 'SsfStream' });
const StreamStatus = z.object({ stream_id: z.string(), status: z.enum(['enabled', 'paused', 'disabled']), reason: z.string().optional() });
const ByStream = z.object({ stream_id: streamId });
const OptionalStream = z.object({ stream_id: z.string().optional().describe('one stream; without it, all of the receiver\'s') });

export function ssfRoutes(services: Services, oidc: OpenIdProvider): ApiRouter {
  const { config, signals, store, clock } = services;
  const issuer = config.server.issuer!;
  const router = new ApiRouter({ bodyLimit: config.server.bodyLimitBytes });
  const tag = 'Shared Signals (SSF)';

  router.define(
    { method: 'get', path: '/.well-known/ssf-configuration', tag, auth: 'none', summary: 'The transmitter\'s configuration metadata (SSF §7.1)', responses: { 200: { description: 'the metadata', schema: z.looseObject({ issuer: z.string(), spec_version: z.string() }) } } },
    [],
    (ctx) => {
      ctx.body = {
        spec_version: '1_0',
        issuer,
        jwks_uri: `${issuer}/oauth2/jwks`,
        delivery_methods_supported: [PUSH, POLL],
        configuration_endpoint: `${issuer}/ssf/streams`,
        status_endpoint: `${issuer}/ssf/status`,
        verification_endpoint: `${issuer}/ssf/verify`,
        authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
        default_subjects: 'ALL',
      };
    },
  );

  async function receiver(ctx: Context): Promise<ClientConfig> {
    let presented;
    try {
      presented = readAuthorization(ctx);
    } catch {
      throw new InvalidClient('malformed Authorization header');
    }
    if (presented?.scheme !== 'basic') {
      ctx.set('WWW-Authenticate', 'Basic realm="ssf"');
      throw new InvalidClient('authenticate the receiver with HTTP Basic (client id and secret)');
    }
    const client = await services.clients.authenticate({ basic: { id: formDecode(presented.username), secret: formDecode(presented.password) } });
    if (!client.ssf) throw new Forbidden('this client is not an SSF receiver (ssf: true)');
    setRequestActor({ credential: 'client', clientId: client.id });
    return client;
  }

  /** SSF §8.1.1: the stream configuration as the receiver sees it (never the push authorization header). */
  const present = (stream: Stream) => ({
    stream_id: stream.stream_id,
    iss: issuer,
    aud: stream.client_id,
    delivery: { method: stream.delivery.method, endpoint_url: stream.delivery.method === POLL ? `${issuer}/ssf/poll/${stream.stream_id}` : stream.delivery.endpoint_url },
    events_supported: EVENTS_SUPPORTED,
    events_requested: stream.events_requested,
    events_delivered: EVENTS_SUPPORTED.filter((uri) => stream.events_requested.includes(uri)),
    ...(stream.description ? { description: stream.description } : {}),
  });

  /** The authenticated receiver, before the request's input is read. */
  const asReceiver = async (ctx: Context, next: Next) => {
    ctx.state.receiver = await receiver(ctx);
    await next();
  };
  const receiverOf = (ctx: Context) => ctx.state.receiver as ClientConfig;

  /** Who gets which signals is a security decision: every change of a stream is in the audit trail. */
  const audited = <T extends Stream>(clientId: string, action: string, streamId: string | undefined, change: () => Promise<T>) =>
    services.audit.around({ type: 'ssf.stream_changed', target: { clientId }, details: { action, streamId: streamId ?? null } }, change, (stream) => ({
      details: { streamId: stream.stream_id, status: stream.status, method: stream.delivery.method },
    }));

  router.define(
    { method: 'post', path: '/ssf/streams', tag, auth: 'receiver', summary: 'Create a stream (SSF §8.1.1.1)', request: { body: StreamRequest }, responses: { 201: { description: 'the stream', schema: StreamConfig } } },
    [asReceiver],
    async (ctx, { body }) => {
      const client = receiverOf(ctx);
      const stream = await audited(client.id, 'create', undefined, () => signals.streams.create(client.id, body));
      ctx.status = 201;
      ctx.body = present(stream);
    },
  );

  router.define(
    {
      method: 'get', path: '/ssf/streams', tag, auth: 'receiver',
      summary: 'Read the receiver\'s streams (SSF §8.1.1.2)',
      request: { query: OptionalStream },
      responses: { 200: { description: 'one stream with stream_id, else a list', schema: z.union([StreamConfig, z.array(StreamConfig)]) } },
    },
    [asReceiver],
    async (ctx, { query }) => {
      const client = receiverOf(ctx);
      ctx.body = query.stream_id !== undefined ? present(await signals.streams.get(client.id, parseInput(streamId, query.stream_id, 'query'))) : (await signals.streams.ofClient(client.id)).map(present);
    },
  );

  for (const [method, replace] of [['patch', false], ['put', true]] as const) {
    router.define(
      {
        method, path: '/ssf/streams', tag, auth: 'receiver',
        summary: replace ? 'Replace a stream\'s configuration (SSF §8.1.1.4)' : 'Update a stream\'s configuration (SSF §8.1.1.3)',
        request: { body: StreamUpdate },
        responses: { 200: { description: 'the stream', schema: StreamConfig } },
      },
      [asReceiver],
      async (ctx, { body }) => {
        const client = receiverOf(ctx);
        const id = body.stream_id;
        ctx.body = present(await audited(client.id, 'update', id, () => signals.streams.update(client.id, id, body, replace)));
      },
    );
  }

  router.define(
    { method: 'delete', path: '/ssf/streams', tag, auth: 'receiver', summary: 'Delete a stream and its undelivered events (SSF §8.1.1.5)', request: { query: ByStream }, responses: { 204: { description: 'deleted' } } },
    [asReceiver],
    async (ctx, { query }) => {
      const client = receiverOf(ctx);
      const id = query.stream_id;
      const stream = await audited(client.id, 'delete', id, () => signals.streams.remove(client.id, id));
      // Its undelivered events go with it: nobody can receive them any more.
      const queue = streamQueue(stream.stream_id);
      for (let items = await store.outboxPeek(queue, 500); items.length; items = await store.outboxPeek(queue, 500)) {
        await store.outboxRemove(queue, items.map((i) => i.id));
      }
      ctx.status = 204;
    },
  );

  router.define(
    { method: 'get', path: '/ssf/status', tag, auth: 'receiver', summary: 'A stream\'s status (SSF §8.1.2.1)', request: { query: ByStream }, responses: { 200: { description: 'the status', schema: StreamStatus } } },
    [asReceiver],
    async (ctx, { query }) => {
      const stream = await signals.streams.get(receiverOf(ctx).id, query.stream_id);
      ctx.body = { stream_id: stream.stream_id, status: stream.status, ...(stream.reason ? { reason: stream.reason } : {}) };
    },
  );

  router.define(
    {
      method: 'post', path: '/ssf/status', tag, auth: 'receiver',
      summary: 'Enable, pause or disable a stream (SSF §8.1.2.2)',
      request: { body: z.object({ stream_id: streamId, status: z.enum(['enabled', 'paused', 'disabled'], { error: 'must be enabled, paused or disabled' }), reason: z.string().optional() }) },
      responses: { 200: { description: 'the status', schema: StreamStatus } },
    },
    [asReceiver],
    async (ctx, { body }) => {
      const client = receiverOf(ctx);
      const stream = await audited(client.id, 'status', body.stream_id, () => signals.streams.setStatus(client.id, body.stream_id, body.status, body.reason));
      signals.kick();
      ctx.body = { stream_id: stream.stream_id, status: stream.status, ...(stream.reason ? { reason: stream.reason } : {}) };
    },
  );

  // §8.1.4: the verification event goes through the stream like any other (push or poll).
  router.define(
    {
      method: 'post', path: '/ssf/verify', tag, auth: 'receiver',
      summary: 'Ask for a verification event (SSF §8.1.4)',
      request: { body: z.object({ stream_id: streamId, state: z.string().max(500).optional().describe('echoed in the event') }) },
      responses: { 204: { description: 'queued on the stream' } },
    },
    [asReceiver],
    async (ctx, { body }) => {
      const client = receiverOf(ctx);
      const stream = await signals.streams.get(client.id, body.stream_id);
      const jti = `ver_${randomBase62(20)}`;
      const item: QueuedDelivery = { kind: 'set', streamId: stream.stream_id, claims: verificationClaims(jti, client.id, stream.stream_id, body.state) };
      await store.outboxAdd(streamQueue(stream.stream_id), jti, JSON.stringify(item), clock(), config.signals.maxQueued);
      signals.kick();
      ctx.status = 204;
    },
  );

  // RFC 8936 §2.4: acknowledge what was received, then get what is waiting (up to maxEvents).
  router.define(
    {
      method: 'post', path: '/ssf/poll/{streamId}', tag, auth: 'receiver',
      summary: 'Poll a stream for events (RFC 8936)',
      description: `Acknowledges the sets named in ack and setErrs, then answers up to maxEvents (at most ${MAX_EVENTS}) waiting ones, waiting up to ${LONG_POLL_MS / 1000} s for one unless returnImmediately.`,
      request: {
        params: z.object({ streamId: z.string() }),
        body: z.object({
          ack: z.array(z.string()).max(1000).optional().describe('jtis received'),
          setErrs: z.record(z.string(), z.unknown()).optional().describe('jtis received with errors'),
          maxEvents: z.number().min(0).optional(),
          returnImmediately: z.boolean().optional(),
        }),
      },
      responses: { 200: { description: 'signed security event tokens by jti', schema: z.object({ sets: z.record(z.string(), z.string()), moreAvailable: z.boolean() }) } },
    },
    [asReceiver],
    async (ctx, { params, body }) => {
      const client = receiverOf(ctx);
      const stream = await signals.streams.get(client.id, params.streamId);
      if (stream.delivery.method !== POLL) throw new InvalidRequest('this stream delivers by push');
      const queue = streamQueue(stream.stream_id);
      const acks = [...(body.ack ?? []), ...Object.keys(body.setErrs ?? {})];
      if (acks.length) await store.outboxRemove(queue, acks.slice(0, 1000));
      const max = Math.min(MAX_EVENTS, Math.max(0, body.maxEvents === undefined ? MAX_EVENTS : Math.floor(body.maxEvents)));
      const deadline = Date.now() + (body.returnImmediately === true || max === 0 ? 0 : LONG_POLL_MS);
      let items = max ? await store.outboxPeek(queue, max + 1) : [];
      while (!items.length && max && Date.now() < deadline && stream.status === 'enabled') {
        await new Promise((resolve) => setTimeout(resolve, config.signals.pollInterval));
        items = await store.outboxPeek(queue, max + 1);
      }
      const sets: Record<string, string> = {};
      // A paused stream holds its events (SSF §8.1.2.1): they are answered once it is enabled again.
      if (stream.status === 'enabled') {
        for (const item of items.slice(0, max)) {
          const queued = JSON.parse(item.payload) as QueuedDelivery;
          if (queued.kind === 'set') sets[item.id] = await signSet(oidc.currentSigningKey(), issuer, queued.claims, clock());
        }
      }
      ctx.body = { sets, moreAvailable: stream.status === 'enabled' && items.length > max };
    },
  );

  return router;
}
