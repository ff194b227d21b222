/**
 * SSF event streams (SSF 1.0 §8.1.1): each belongs to one receiver, an OAuth client with
 * `ssf: true`, whose client id is the stream's `aud`. All streams live in one shared setting,
 * changed by compare-and-set, so every gateway sees the same streams and two concurrent changes
 * never lose one another.
 *
 * A push stream's `authorization_header` (what Tessera sends to the receiver) is kept in the
 * store like the signing keys, sealed with the key-encryption key when one is set, and never
 * shown again in a read. One found in clear (an older Tessera, or stored before the KEK was set)
 * still works, and is sealed when the streams are next read.
 */
import { randomBase62 } from '../ids.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import { sealedWith, type SealedSecrets } from '../oauth/sealed-secrets.js';
import type { Store } from '../store/store.js';
import { SIGNAL_NAMES, type SignalName } from './config.js';
import { EVENT_URIS } from './events.js';

/** The part of the store this uses: the stream registry, one shared setting. */
export type StreamStore = Pick<Store, 'compareAndSetSetting' | 'getSetting'>;

export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';
const SETTING = 'ssf.streams';
/** Streams one receiver may hold: enough for staging/production pairs, bounded against misuse. */
const MAX_STREAMS_PER_RECEIVER = 10;

export type StreamStatus = 'enabled' | 'paused' | 'disabled';

export interface Stream {
  stream_id: string;
  client_id: string;
  delivery: { method: typeof PUSH | typeof POLL; endpoint_url?: string; authorization_header?: string };
  /** Signal names (not URIs): what the receiver asked for, among those Tessera sends. */
  events: SignalName[];
  /** The URIs the receiver asked for, as it sent them. */
  events_requested: string[];
  description?: string;
  status: StreamStatus;
  reason?: string;
}

/** The SSF signals (token-expiring is a webhook-only notice). */
const SSF_SIGNALS: SignalName[] = SIGNAL_NAMES.filter((n) => n !== 'token-expiring');
export const EVENTS_SUPPORTED = SSF_SIGNALS.map((n) => EVENT_URIS[n]);
const BY_URI = new Map(SSF_SIGNALS.map((n) => [EVENT_URIS[n], n] as const));

export interface StreamRequest {
  delivery?: { method?: unknown; endpoint_url?: unknown; authorization_header?: unknown };
  events_requested?: unknown;
  description?: unknown;
}

function checkDelivery(delivery: StreamRequest['delivery']): Stream['delivery'] {
  const method = delivery?.method ?? POLL;
  if (method === POLL) return { method: POLL };
  if (method !== PUSH) throw new InvalidRequest(`delivery.method must be ${PUSH} or ${POLL}`);
  const url = delivery?.endpoint_url;
  if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new InvalidRequest('push delivery needs an http(s) endpoint_url');
  const auth = delivery?.authorization_header;
  if (auth !== undefined && (typeof auth !== 'string' || auth.length > 4096 || /[\r\n]/.test(auth))) throw new InvalidRequest('authorization_header must be one header value');
  return { method: PUSH, endpoint_url: url, ...(typeof auth === 'string' ? { authorization_header: auth } : {}) };
}

function checkEvents(requested: unknown): { events: SignalName[]; events_requested: string[] } {
  if (requested === undefined) return { events: [...SSF_SIGNALS], events_requested: [...EVENTS_SUPPORTED] };
  if (!Array.isArray(requested) || requested.some((u) => typeof u !== 'string' || u.length > 500) || requested.length > 50) {
    throw new InvalidRequest('events_requested must be a list of event type URIs');
  }
  const events = [...new Set(requested.map((u) => BY_URI.get(u)).filter((n): n is SignalName => n !== undefined))];
  return { events, events_requested: requested as string[] };
}

/** What the push streams' sealed headers are called in the start-up check (sealed-secrets.ts). */
export const SEALED_USE = 'ssf-push-authorization';

export class StreamRegistry {
  constructor(
    private readonly store: StreamStore,
    private readonly secrets: SealedSecrets,
  ) {}

  /** The stored setting, opened: each push stream's authorization header in clear, for delivery. */
  private async decode(raw: string | null): Promise<{ streams: Stream[]; reseal: boolean }> {
    const streams = raw ? (JSON.parse(raw) as Stream[]) : [];
    let reseal = false;
    for (const stream of streams) {
      if (stream.delivery.authorization_header === undefined) continue;
      const opened = await this.secrets.open(stream.delivery.authorization_header);
      stream.delivery.authorization_header = opened.secret;
      reseal ||= opened.reseal;
    }
    return { streams, reseal };
  }

  private async encode(streams: Stream[]): Promise<string> {
    const sealed = await Promise.all(streams.map(async (stream) => {
      const header = stream.delivery.authorization_header;
      return header === undefined ? stream : { ...stream, delivery: { ...stream.delivery, authorization_header: await this.secrets.seal(header) } };
    }));
    return JSON.stringify(sealed);
  }

  /** The KEKs the stored headers are sealed with, read from the headers themselves (for the start-up check). */
  async sealedWith(): Promise<string[]> {
    const raw = await this.store.getSetting(SETTING);
    let streams: Stream[];
    try {
      streams = raw ? (JSON.parse(raw) as Stream[]) : [];
    } catch {
      // Unreadable streams fail where they are used (all()), not the gateway's start.
      return [];
    }
    const kids = streams.map((s) => (s.delivery.authorization_header === undefined ? null : sealedWith(s.delivery.authorization_header)));
    return [...new Set(kids.filter((kid): kid is string => kid !== null))];
  }

  async all(): Promise<Stream[]> {
    const { streams, reseal } = await this.decode(await this.store.getSetting(SETTING));
    // A header found in clear while a KEK is set is sealed now (a no-op change writes it back).
    if (reseal) await this.change(() => undefined);
    return streams;
  }

  /** Read-modify-write under compare-and-set: retried until no other change came in between. */
  private async change<T>(apply: (streams: Stream[]) => T): Promise<T> {
    for (;;) {
      const raw = await this.store.getSetting(SETTING);
      const { streams } = await this.decode(raw);
      const result = apply(streams);
      if (await this.store.compareAndSetSetting(SETTING, raw, await this.encode(streams))) return result;
    }
  }

  async ofClient(clientId: string): Promise<Stream[]> {
    return (await this.all()).filter((s) => s.client_id === clientId);
  }

  async get(clientId: string, streamId: unknown): Promise<Stream> {
    const found = (await this.all()).find((s) => s.stream_id === streamId && s.client_id === clientId);
    if (!found) throw new NotFound('no such stream');
    return found;
  }

  create(clientId: string, request: StreamRequest): Promise<Stream> {
    const stream: Stream = {
      stream_id: randomBase62(22),
      client_id: clientId,
      delivery: checkDelivery(request.delivery),
      ...checkEvents(request.events_requested),
      ...(typeof request.description === 'string' ? { description: request.description.slice(0, 500) } : {}),
      status: 'enabled',
    };
    return this.change((streams) => {
      if (streams.filter((s) => s.client_id === clientId).length >= MAX_STREAMS_PER_RECEIVER) throw new Conflict(`at most ${MAX_STREAMS_PER_RECEIVER} streams per receiver`);
      streams.push(stream);
      return stream;
    });
  }

  /** PATCH (`replace` false: only the members given) or PUT (`replace` true: the whole configuration). */
  update(clientId: string, streamId: unknown, request: StreamRequest, replace: boolean): Promise<Stream> {
    const delivery = request.delivery !== undefined || replace ? checkDelivery(request.delivery) : undefined;
    const events = request.events_requested !== undefined || replace ? checkEvents(request.events_requested) : undefined;
    return this.change((streams) => {
      const stream = streams.find((s) => s.stream_id === streamId && s.client_id === clientId);
      if (!stream) throw new NotFound('no such stream');
      if (delivery) stream.delivery = delivery;
      if (events) Object.assign(stream, events);
      if (typeof request.description === 'string') stream.description = request.description.slice(0, 500);
      else if (replace) delete stream.description;
      return stream;
    });
  }

  setStatus(clientId: string, streamId: unknown, status: unknown, reason: unknown): Promise<Stream> {
    if (status !== 'enabled' && status !== 'paused' && status !== 'disabled') throw new InvalidRequest('status must be enabled, paused or disabled');
    return this.change((streams) => {
      const stream = streams.find((s) => s.stream_id === streamId && s.client_id === clientId);
      if (!stream) throw new NotFound('no such stream');
      stream.status = status;
      if (typeof reason === 'string') stream.reason = reason.slice(0, 500);
      else delete stream.reason;
      return stream;
    });
  }

  remove(clientId: string, streamId: unknown): Promise<Stream> {
    return this.change((streams) => {
      const i = streams.findIndex((s) => s.stream_id === streamId && s.client_id === clientId);
      if (i < 0) throw new NotFound('no such stream');
      return streams.splice(i, 1)[0]!;
    });
  }
}

/** The queue a stream's events wait in (push: until delivered; poll: until acknowledged). */
export const streamQueue = (streamId: string): string => `ssf.${streamId}`;
