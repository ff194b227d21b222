/**
 * The delivery worker every gateway runs: claims due items from the push queues (SSF push
 * streams, webhook endpoints), sends them, and removes, defers or gives them up. Claims are
 * leased in the store (outbox.ts), so several gateways share the work and send each item once;
 * an item whose gateway died is sent by another after the lease.
 *
 * Retries: every failure is retried after `backoff` doubled per attempt (capped at `maxBackoff`,
 * with jitter so a receiver coming back is not hit by every queue at once) up to `maxAttempts`,
 * including 401/403 (a receiver whose credentials are being fixed must not lose events), except
 * 400 and 413: the receiver refusing that very item (RFC 8935 §2.3: a SET it cannot parse or
 * accept), which would fail the same way again. Redirects are not followed: a receiver moves by
 * updating its stream or the config.
 */
import type { JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OutboxItem, Store } from '../store/store.js';
import type { SignalsConfig, WebhookConfig } from './config.js';
import type { QueuedDelivery } from './publisher.js';
import { signSet } from './set.js';
import { PUSH, streamQueue, type Stream, type StreamRegistry } from './streams.js';
import { webhookHeaders, webhookQueue } from './webhooks.js';
import { MAIL_QUEUE, type QueuedMail } from './expiry-notices.js';
import type { SendMail } from './mailer.js';

/** The part of the store this uses: the outbox queues and delivery logs. */
export type DeliveryStore = Pick<Store, 'deliveryLogPush' | 'outboxClaim' | 'outboxDefer' | 'outboxRemove'>;

export interface DeliveryDeps {
  store: DeliveryStore;
  clock: Clock;
  issuer: string;
  signals: SignalsConfig;
  webhooks: WebhookConfig[];
  streams: StreamRegistry;
  /** The provider's current signing key (private JWK). */
  signingKey: () => JWK;
  logger: Logger;
  /** The SMTP relay, when `notifications.smtp` is set: expiry notices go out through it. */
  sendMail?: SendMail;
  metrics?: Metrics;
}

type Attempt = { ok: true; status: number } | { ok: false; retry: boolean; error: string; status?: number };

/** What a delivery log entry says (never a payload or header: they may identify tokens). */
export interface DeliveryLogEntry {
  id: string;
  at: string;
  attempt: number;
  outcome: 'delivered' | 'retrying' | 'given_up' | 'refused' | 'dropped_queue_full';
  status?: number;
  error?: string;
  next_attempt_at?: string;
}

const BATCH = 20;

export class SignalDelivery {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = true;
  private warnedAt = 0;

  constructor(private readonly deps: DeliveryDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Looks for work now (this gateway just queued some). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.again = false;
    this.running = this.deliverDue().catch((err: unknown) => {
      // A store outage fails every round (four a second): said once a minute, not each time.
      if (Date.now() - this.warnedAt < 60_000) return;
      this.warnedAt = Date.now();
      this.deps.logger.warn({ err }, 'signal delivery round failed; deliveries wait in the store');
    });
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(this.again ? 0 : this.deps.signals.pollInterval);
  }

  /** One round over every push queue. */
  async deliverDue(): Promise<void> {
    const streams = (await this.deps.streams.all()).filter((s) => s.delivery.method === PUSH && s.status === 'enabled');
    await Promise.all([
      ...streams.map((stream) => this.drain(streamQueue(stream.stream_id), (item) => this.sendSet(stream, item))),
      ...this.deps.webhooks.map((endpoint) => this.drain(webhookQueue(endpoint.id), (payload, id) => this.sendWebhook(endpoint, payload, id))),
      ...(this.deps.sendMail ? [this.drain<QueuedMail>(MAIL_QUEUE, (mail) => this.sendMail(mail))] : []),
    ]);
  }

  private async drain<T = QueuedDelivery>(queue: string, send: (payload: T, id: string) => Promise<Attempt>): Promise<void> {
    const { store, clock, signals } = this.deps;
    const items = await store.outboxClaim(queue, clock(), signals.lease, BATCH);
    for (const item of items) {
      let attempt: Attempt;
      try {
        attempt = await send(JSON.parse(item.payload) as T, item.id);
      } catch (err) {
        attempt = { ok: false, retry: true, error: 'internal' };
        this.deps.logger.warn({ err, queue, id: item.id }, 'signal delivery failed before sending');
      }
      await this.settle(queue, item, attempt);
    }
    if (items.length === BATCH) this.again = true;
  }

  private async settle(queue: string, item: OutboxItem, attempt: Attempt): Promise<void> {
    const { store, clock, signals, logger } = this.deps;
    const now = clock();
    const entry: DeliveryLogEntry = { id: item.id, at: new Date(now).toISOString(), attempt: item.attempts, outcome: 'delivered' };
    if (attempt.status !== undefined) entry.status = attempt.status;
    if (attempt.ok) {
      await store.outboxRemove(queue, [item.id]);
    } else if (!attempt.retry || item.attempts >= signals.maxAttempts) {
      Object.assign(entry, { outcome: attempt.retry ? 'given_up' : 'refused', error: attempt.error });
      await store.outboxRemove(queue, [item.id]);
      logger.warn({ queue, id: item.id, attempts: item.attempts, error: attempt.error }, 'signal not delivered: given up');
    } else {
      const delay = Math.min(signals.maxBackoff, signals.backoff * 2 ** (item.attempts - 1));
      const dueAt = now + Math.round(delay * (0.5 + Math.random() / 2));
      Object.assign(entry, { outcome: 'retrying', error: attempt.error, next_attempt_at: new Date(dueAt).toISOString() });
      await store.outboxDefer(queue, item.id, dueAt);
    }
    await store.deliveryLogPush(queue, JSON.stringify(entry), signals.logSize);
    const kind = queue.startsWith('ssf.') ? 'ssf' : queue.startsWith('wh.') ? 'webhook' : 'mail';
    this.deps.metrics?.signalDeliveries.inc({ kind, outcome: entry.outcome });
  }

  private async sendSet(stream: Stream, item: QueuedDelivery): Promise<Attempt> {
    if (item.kind !== 'set') return { ok: false, retry: false, error: 'not_a_set' };
    const jwt = await signSet(this.deps.signingKey(), this.deps.issuer, item.claims, this.deps.clock());
    // RFC 8935 §2: the SET as the body, application/secevent+jwt; 202 Accepted means taken.
    const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json' };
    if (stream.delivery.authorization_header) headers.authorization = stream.delivery.authorization_header;
    return this.post(stream.delivery.endpoint_url!, headers, jwt);
  }

  private async sendWebhook(endpoint: WebhookConfig, item: QueuedDelivery, id: string): Promise<Attempt> {
    if (item.kind !== 'webhook') return { ok: false, retry: false, error: 'not_a_webhook' };
    // Wall time, not the gateway's clock: the receiver checks it against its own clock (replay window).
    const headers = webhookHeaders(endpoint, id, Math.floor(Date.now() / 1000), item.body);
    return this.post(endpoint.url, headers, item.body);
  }

  /** An SMTP 5xx answer is permanent (no such mailbox): not retried. */
  private async sendMail(mail: QueuedMail): Promise<Attempt> {
    try {
      await this.deps.sendMail!(mail);
      return { ok: true, status: 250 };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      return { ok: false, retry: !(code && code >= 500), error: code ? `smtp_${code}` : 'smtp_connection', ...(code ? { status: code } : {}) };
    }
  }

  private async post(url: string, headers: Record<string, string>, body: string): Promise<Attempt> {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.deps.signals.timeout) });
    } catch (err) {
      return { ok: false, retry: true, error: (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'connection' };
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const retry = res.status !== 400 && res.status !== 413;
    return { ok: false, retry, error: `http_${res.status}`, status: res.status };
  }
}
