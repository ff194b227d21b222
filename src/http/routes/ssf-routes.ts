/**
 * The SSF 1.0 transmitter's HTTP side: the configuration metadata (§7.1), the stream management
 * API (§8.1: configuration, status, verification) and RFC 8936 poll delivery. Callers are
 * receivers: OAuth clients with `ssf: true`, authenticating as at introspection
 * (`client_secret_basic`, RFC 6749 §2.3.1); each sees and changes only its own streams.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../gateway.js';
import type { ClientConfig } from '../../config/schema.js';
import { Forbidden, InvalidClient, InvalidRequest } from '../../errors.js';
import { setRequestActor } from '../../audit/context.js';
import { readJson, type Fields } from '../body.js';
import { formDecode, readAuthorization } from '../credentials.js';
import { EVENTS_SUPPORTED, POLL, PUSH, streamQueue, type Stream } from '../../signals/streams.js';
import { signSet, verificationClaims } from '../../signals/set.js';
import type { OpenIdProvider } from '../../oauth/provider.js';
import type { QueuedDelivery } from '../../signals/publisher.js';
import { randomBase62 } from '../../ids.js';

/** Longest an RFC 8936 long poll waits for an event before answering with none. */
const LONG_POLL_MS = 10_000;
const MAX_EVENTS = 100;

export function ssfRoutes(services: Services, oidc: OpenIdProvider): Router {
  const router = new Router();
  const { config, signals, store, clock } = services;
  const issuer = config.server.issuer!;
  const limit = config.server.bodyLimitBytes;

  router.get('/.well-known/ssf-configuration', (ctx) => {
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
  });

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

  const streamIdOf = (ctx: Context, body?: Fields) => {
    const id = body?.stream_id ?? ctx.query.stream_id;
    if (typeof id !== 'string' || !id) throw new InvalidRequest('stream_id is required');
    return id;
  };

  /** Who gets which signals is a security decision: every change of a stream is in the audit trail. */
  const audited = <T extends Stream>(clientId: string, action: string, streamId: string | undefined, change: () => Promise<T>) =>
    services.audit.around({ type: 'ssf.stream_changed', target: { clientId }, details: { action, streamId: streamId ?? null } }, change, (stream) => ({
      details: { streamId: stream.stream_id, status: stream.status, method: stream.delivery.method },
    }));

  router.post('/ssf/streams', async (ctx) => {
    const client = await receiver(ctx);
    const body = await readJson(ctx, limit);
    const stream = await audited(client.id, 'create', undefined, () => signals.streams.create(client.id, body as never));
    ctx.status = 201;
    ctx.body = present(stream);
  });

  router.get('/ssf/streams', async (ctx) => {
    const client = await receiver(ctx);
    ctx.body = ctx.query.stream_id !== undefined ? present(await signals.streams.get(client.id, streamIdOf(ctx))) : (await signals.streams.ofClient(client.id)).map(present);
  });

  for (const [method, replace] of [['patch', false], ['put', true]] as const) {
    router[method]('/ssf/streams', async (ctx) => {
      const client = await receiver(ctx);
      const body = await readJson(ctx, limit);
      const id = streamIdOf(ctx, body);
      ctx.body = present(await audited(client.id, 'update', id, () => signals.streams.update(client.id, id, body as never, replace)));
    });
  }

  router.delete('/ssf/streams', async (ctx) => {
    const client = await receiver(ctx);
    const id = streamIdOf(ctx);
    const stream = await audited(client.id, 'delete', id, () => signals.streams.remove(client.id, id));
    // Its undelivered events go with it: nobody can receive them any more.
    const queue = streamQueue(stream.stream_id);
    for (let items = await store.outboxPeek(queue, 500); items.length; items = await store.outboxPeek(queue, 500)) {
      await store.outboxRemove(queue, items.map((i) => i.id));
    }
    ctx.status = 204;
  });

  router.get('/ssf/status', async (ctx) => {
    const client = await receiver(ctx);
    const stream = await signals.streams.get(client.id, streamIdOf(ctx));
    ctx.body = { stream_id: stream.stream_id, status: stream.status, ...(stream.reason ? { reason: stream.reason } : {}) };
  });

  router.post('/ssf/status', async (ctx) => {
    const client = await receiver(ctx);
    const body = await readJson(ctx, limit);
    const id = streamIdOf(ctx, body);
    const stream = await audited(client.id, 'status', id, () => signals.streams.setStatus(client.id, id, body.status, body.reason));
    signals.kick();
    ctx.body = { stream_id: stream.stream_id, status: stream.status, ...(stream.reason ? { reason: stream.reason } : {}) };
  });

  // §8.1.4: the verification event goes through the stream like any other (push or poll).
  router.post('/ssf/verify', async (ctx) => {
    const client = await receiver(ctx);
    const body = await readJson(ctx, limit);
    const stream = await signals.streams.get(client.id, streamIdOf(ctx, body));
    if (body.state !== undefined && (typeof body.state !== 'string' || body.state.length > 500)) throw new InvalidRequest('state must be a string');
    const jti = `ver_${randomBase62(20)}`;
    const item: QueuedDelivery = { kind: 'set', streamId: stream.stream_id, claims: verificationClaims(jti, client.id, stream.stream_id, body.state as string | undefined) };
    await store.outboxAdd(streamQueue(stream.stream_id), jti, JSON.stringify(item), clock(), config.signals.maxQueued);
    signals.kick();
    ctx.status = 204;
  });

  // RFC 8936 §2.4: acknowledge what was received, then get what is waiting (up to maxEvents).
  router.post('/ssf/poll/:streamId', async (ctx) => {
    const client = await receiver(ctx);
    const body = await readJson(ctx, limit);
    const stream = await signals.streams.get(client.id, ctx.params.streamId);
    if (stream.delivery.method !== POLL) throw new InvalidRequest('this stream delivers by push');
    const queue = streamQueue(stream.stream_id);
    const acks = [...(Array.isArray(body.ack) ? body.ack : []), ...Object.keys(body.setErrs && typeof body.setErrs === 'object' ? body.setErrs : {})].filter((a): a is string => typeof a === 'string');
    if (acks.length) await store.outboxRemove(queue, acks.slice(0, 1000));
    const max = Math.min(MAX_EVENTS, Math.max(0, typeof body.maxEvents === 'number' ? Math.floor(body.maxEvents) : MAX_EVENTS));
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
  });

  return router;
}
