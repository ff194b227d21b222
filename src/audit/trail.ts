/**
 * The audit trail: records events in the store and ships them to the log sinks.
 *
 * Durability, the rule: **no state change without its event**. A change is recorded write-ahead,
 * as Vault's audit devices do:
 *   1. the event is appended as `attempted` before the change; if the store cannot take it the
 *      action is refused (503 `temporarily_unavailable`) and nothing changes;
 *   2. the change runs;
 *   3. its outcome (`succeeded` or `failed`, with facts only known afterwards, such as a new
 *      token's id) replaces the `attempted` entry in one atomic store step.
 * A crash (kill -9) or a store failure between 2 and 3 leaves the `attempted` event standing: an
 * event that may describe a change, never a change without an event. Events that change nothing
 * themselves (a failed login, a rejected client) are one append; if it fails, so does the request.
 */
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { randomBase62 } from '../ids.js';
import type { Store } from '../store/store.js';
import { currentRequest, type RequestContext } from './context.js';
import type { AuditActor, AuditEvent, AuditRecord } from './event.js';
import { redact } from './redact.js';
import { notifySubscribers, shipEvent, type AuditSink, type AuditSubscriber } from './sinks.js';

export interface AuditTrailOptions {
  store: Store;
  clock: Clock;
  /** How long events are kept (config `audit.retention`), ms. */
  retentionMs: number;
  sinks: AuditSink[];
}

/** What the outcome adds once the change is done: a created id, counts, changed fields. */
export type AuditOutcomeFacts = Pick<AuditRecord, 'target' | 'details' | 'actor'>;

/** A failure as a class for `reason`: the error's code, never its message (which may quote input). */
const reasonOf = (err: unknown): string => (err instanceof TesseraError ? err.code : 'error');

export class AuditTrail {
  private readonly subscribers: AuditSubscriber[] = [];

  constructor(private readonly options: AuditTrailOptions) {}

  /** Adds a subscriber for stored outcomes (never `attempted` entries); see sinks.ts. */
  subscribe(subscriber: AuditSubscriber): void {
    this.subscribers.push(subscriber);
  }

  private build(record: AuditRecord, outcome: AuditEvent['outcome'], request = currentRequest()): AuditEvent {
    const actor: AuditActor = record.actor ?? request?.actor ?? { credential: request ? 'anonymous' : 'system' };
    return redact({
      id: `evt_${randomBase62(20)}`,
      time: new Date(this.options.clock()).toISOString(),
      type: record.type,
      outcome,
      ...(record.reason ? { reason: record.reason } : {}),
      actor,
      ...(record.target ? { target: record.target } : {}),
      ...(record.source ? { source: record.source } : {}),
      ...(request ? { ip: request.ip, userAgent: request.userAgent, requestId: request.requestId } : {}),
      ...(record.details ? { details: record.details } : {}),
    });
  }

  private append(event: AuditEvent, replaces?: string): Promise<string> {
    return this.options.store.auditAppend(JSON.stringify(event), this.options.clock(), this.options.retentionMs, replaces);
  }

  /**
   * Records an event that is not itself a change of state (default outcome `succeeded`).
   * `request`: the request it belongs to, for callers outside the request context (the hot routes).
   */
  async record(record: AuditRecord, request?: RequestContext): Promise<void> {
    const event = this.build(record, record.outcome ?? 'succeeded', request ?? currentRequest());
    await this.append(event);
    shipEvent(this.options.sinks, event);
    await notifySubscribers(this.subscribers, event);
  }

  /**
   * Runs `change` under a write-ahead event (see the file comment). `facts` turns the result
   * into what the outcome adds. The change's own error is rethrown unchanged.
   */
  async around<T>(record: AuditRecord, change: () => Promise<T>, facts?: (result: T) => AuditOutcomeFacts): Promise<T> {
    const attempted = this.build(record, 'attempted');
    const entry = await this.append(attempted);
    let result: T;
    try {
      result = await change();
    } catch (err) {
      await this.settle({ ...attempted, outcome: 'failed', reason: reasonOf(err) }, entry);
      throw err;
    }
    const extra = facts ? redact(facts(result)) : {};
    const outcome: AuditEvent = { ...attempted, outcome: 'succeeded', ...(extra.actor ? { actor: extra.actor } : {}) };
    if (extra.target) outcome.target = { ...attempted.target, ...extra.target };
    if (extra.details) outcome.details = { ...attempted.details, ...extra.details };
    await this.settle(outcome, entry);
    return result;
  }

  /**
   * Replaces the attempted entry by the outcome. If the store fails now, the change stands and so
   * does the `attempted` event: the caller still gets the change's answer, and the log line tells
   * the outcome.
   */
  private async settle(outcome: AuditEvent, attemptedEntry: string): Promise<void> {
    try {
      await this.append(outcome, attemptedEntry);
    } catch {
      shipEvent(this.options.sinks, { ...outcome, details: { ...outcome.details, storedAs: 'attempted' } });
      await notifySubscribers(this.subscribers, outcome);
      return;
    }
    shipEvent(this.options.sinks, outcome);
    await notifySubscribers(this.subscribers, outcome);
  }
}
