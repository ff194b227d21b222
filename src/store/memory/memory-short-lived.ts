/**
 * The memory store's claims, markers and transient values (the rules: `Store.claimOnce` ...
 * `takeTransient` in ../store.ts, checks in ../short-lived.ts). Each entry holds the instant it
 * lapses, compared with the caller's clock as the Redis store does. Values are kept as JSON text,
 * so they come back exactly as they would from Redis.
 */
import { checkKind, checkShortLivedKey, checkTransientValue, checkTtl, type TransientValue } from '../short-lived.js';

/** Callers choose keys (IPs, assertion IDs): past this many entries, lapsed ones are swept. */
const SWEEP_ABOVE = 10_000;

class Lapsing<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T, until: number, now: number): void {
    if (this.entries.size > SWEEP_ABOVE) for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
    this.entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export class MemoryShortLived {
  private readonly claims = new Lapsing<true>();
  private readonly markers = new Lapsing<true>();
  private readonly transients = new Lapsing<string>();

  claimOnce(key: string, ttlMs: number, now: number): boolean {
    checkShortLivedKey('claim key', key);
    checkTtl(ttlMs);
    if (this.claims.get(key, now)) return false;
    this.claims.set(key, true, now + ttlMs, now);
    return true;
  }

  setMarker(key: string, ttlMs: number, now: number): void {
    checkShortLivedKey('marker key', key);
    checkTtl(ttlMs);
    this.markers.set(key, true, now + ttlMs, now);
  }

  hasMarker(key: string, now: number): boolean {
    checkShortLivedKey('marker key', key);
    return this.markers.get(key, now) === true;
  }

  clearMarker(key: string): void {
    checkShortLivedKey('marker key', key);
    this.markers.delete(key);
  }

  put(kind: string, id: string, value: TransientValue, ttlMs: number, now: number): void {
    const key = transientKey(kind, id);
    checkTtl(ttlMs);
    this.transients.set(key, checkTransientValue(value), now + ttlMs, now);
  }

  peek(kind: string, id: string, now: number): TransientValue | null {
    const json = this.transients.get(transientKey(kind, id), now);
    return json === undefined ? null : (JSON.parse(json) as TransientValue);
  }

  take(kind: string, id: string, now: number): TransientValue | null {
    const key = transientKey(kind, id);
    const json = this.transients.get(key, now);
    this.transients.delete(key);
    return json === undefined ? null : (JSON.parse(json) as TransientValue);
  }
}

function transientKey(kind: string, id: string): string {
  checkKind(kind);
  checkShortLivedKey('transient id', id);
  return `${kind}:${id}`;
}
