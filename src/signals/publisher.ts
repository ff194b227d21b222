/**
 * Turns stored audit outcomes into queued deliveries: one item per signal and receiver (an SSF
 * stream or a webhook endpoint) in the store's outbox, added before the action answers. The item
 * id is the signal's id, so an event handled twice is queued once. Signing happens at delivery
 * (delivery.ts), with the key in force then.
 */
import type { AuditEvent } from '../audit/event.js';
import type { AuditSubscriber } from '../audit/sinks.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';
import type { SignalsConfig, WebhookConfig } from './config.js';
import { signalsOf, type Signal } from './events.js';
import { setClaims } from './set.js';
import { streamQueue, type StreamRegistry } from './streams.js';
import { wants, webhookBody, webhookQueue } from './webhooks.js';

/** The part of the store this uses: users, the outbox queues and delivery logs. */
export type PublisherStore = Pick<Store, 'deliveryLogPush' | 'getUser' | 'outboxAdd'>;

export type QueuedDelivery = { kind: 'set'; streamId: string; claims: ReturnType<typeof setClaims> } | { kind: 'webhook'; endpoint: string; body: string };

export interface PublisherDeps {
  store: PublisherStore;
  clock: Clock;
  issuer: string;
  signals: SignalsConfig;
  webhooks: WebhookConfig[];
  streams: StreamRegistry;
  logger: Logger;
  /** Wakes this gateway's delivery worker: its own events go out at once. */
  kick: () => void;
}

export class SignalPublisher implements AuditSubscriber {
  constructor(private readonly deps: PublisherDeps) {}

  async onEvent(event: AuditEvent): Promise<void> {
    const signals = signalsOf(event);
    if (!signals.length) return;
    try {
      await this.publish(signals);
    } catch (err) {
      // The action stands and its event is stored; what was not queued is said loudly.
      this.deps.logger.error({ err, event: event.id, type: event.type }, 'signals not queued');
    }
    this.deps.kick();
  }

  /** Queues signals (also used for notices, which are not audit outcomes). */
  async publish(signals: Signal[]): Promise<void> {
    const { store, streams, webhooks, issuer } = this.deps;
    const user = await store.getUser(signals[0]!.subject.userId);
    const email = user?.email || undefined;
    const ready = signals.filter((s) => s.name !== 'account-enabled' || user?.enabled === true);
    const all = (await streams.all()).filter((s) => s.status !== 'disabled');
    for (const signal of ready) {
      for (const stream of all.filter((s) => s.events.includes(signal.name))) {
        await this.enqueue(streamQueue(stream.stream_id), signal, { kind: 'set', streamId: stream.stream_id, claims: setClaims(issuer, stream.client_id, signal, email) });
      }
      for (const endpoint of webhooks.filter((w) => wants(w, signal))) {
        await this.enqueue(webhookQueue(endpoint.id), signal, { kind: 'webhook', endpoint: endpoint.id, body: webhookBody(signal, email) });
      }
    }
  }

  private async enqueue(queue: string, signal: Signal, item: QueuedDelivery): Promise<void> {
    const { store, clock, signals } = this.deps;
    const added = await store.outboxAdd(queue, signal.id, JSON.stringify(item), clock(), signals.maxQueued);
    if (added === 'full') {
      this.deps.logger.error({ queue, signal: signal.id, type: signal.name }, 'delivery queue full: signal dropped for this receiver');
      await store.deliveryLogPush(queue, JSON.stringify({ id: signal.id, type: signal.name, at: new Date(clock()).toISOString(), outcome: 'dropped_queue_full' }), signals.logSize);
    }
  }
}
