/**
 * Times every store operation and counts its failures, for any `Store` (memory, Redis, Cluster,
 * Sentinel) without touching the implementations: the store is wrapped once, in the composition
 * root, so every user of it is measured.
 *
 * Store trouble is also what an operator must hear about first, but during an outage every
 * request fails the same way: `store unavailable` and `store slow` warnings are rate-limited
 * (one line, then one per interval with a count).
 */
import { performance } from 'node:perf_hooks';
import { TemporarilyUnavailable } from '../errors.js';
import type { Store } from '../store/store.js';
import { RateLimitedWarning, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface StoreObservation {
  metrics: Metrics;
  logger: Logger;
  /** A call slower than this (ms) is reported as slow; a timed-out one as unavailable. */
  slowMs: number;
  /** Minimum time between two warnings of one kind (ms). */
  warnIntervalMs?: number;
}

export function observeStore(store: Store, { metrics, logger, slowMs, warnIntervalMs }: StoreObservation): Store {
  const unavailable = new RateLimitedWarning(logger, 'store unavailable: requests that need it answer 503', warnIntervalMs);
  const slow = new RateLimitedWarning(logger, 'store slow', warnIntervalMs);
  const wrapped = new Map<PropertyKey, unknown>();

  function measure(command: string, duration: { observe(seconds: number): void }, call: () => unknown): unknown {
    const started = performance.now();
    const result = call();
    if (!(result instanceof Promise)) return result;
    return result.then(
      (value) => {
        const ms = performance.now() - started;
        duration.observe(ms / 1000);
        if (ms > slowMs) slow.note({ command, ms: Math.round(ms) });
        return value;
      },
      (err: unknown) => {
        duration.observe((performance.now() - started) / 1000);
        // Conflict and NotFound are answers, not failures of the store.
        if (err instanceof TemporarilyUnavailable) {
          metrics.storeErrors.inc({ command });
          unavailable.note({ command, reason: err.message });
        }
        throw err;
      },
    );
  }

  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      let fn = wrapped.get(property);
      if (!fn) {
        if (property === 'close') {
          fn = (...args: unknown[]) => {
            unavailable.flush();
            slow.flush();
            return value.apply(target, args);
          };
        } else {
          // The label child is looked up once per operation, not on every call.
          const duration = metrics.storeDuration.labels(property);
          fn = (...args: unknown[]) => measure(property, duration, () => value.apply(target, args));
        }
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}
