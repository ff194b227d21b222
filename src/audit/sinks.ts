/**
 * Where events go besides the store: each sink gets every event as one structured log call whose
 * object carries the same `type` as the stored event, so Fluent Bit, Vector, Loki or a SIEM take
 * audit events from the log stream without a plugin. The shape is pino's (`logger.info(obj, msg)`),
 * so a pino logger is a sink as it stands. A list of sinks is the seam for more (webhooks).
 */
import type { AuditEvent } from './event.js';

export interface AuditSink {
  info(obj: object, msg?: string): void;
}

/** Until a logger is plugged in: one JSON line per event on stdout. */
export const jsonLinesToStdout: AuditSink = {
  info(obj, msg) {
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), ...obj, msg })}\n`);
  },
};

/**
 * The log line of an event: its fields at the top level with `audit: true`, so log pipelines can
 * route it. Its time is `eventTime`: `time` is the logger's own (pino writes it), and one line
 * must not carry the key twice.
 */
export function shipEvent(sinks: readonly AuditSink[], event: AuditEvent): void {
  const { time, ...rest } = event;
  for (const sink of sinks) {
    try {
      sink.info({ audit: true, ...rest, eventTime: time }, `audit ${event.type} ${event.outcome}`);
    } catch {
      // A broken sink must not fail the action: the event is already in the store.
    }
  }
}

/**
 * Who acts on events after they are stored (signals/: SSF streams, webhooks): awaited before the
 * action answers, so an event the caller saw succeed is already queued for delivery. A subscriber
 * handles its own failures; one that throws anyway does not fail the action (the event is stored).
 */
export interface AuditSubscriber {
  onEvent(event: AuditEvent): Promise<void>;
}

export async function notifySubscribers(subscribers: readonly AuditSubscriber[], event: AuditEvent): Promise<void> {
  for (const subscriber of subscribers) {
    try {
      await subscriber.onEvent(event);
    } catch {
      // Same rule as a sink: the action stands, its event is in the store.
    }
  }
}
