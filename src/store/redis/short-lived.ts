/**
 * The Redis store's claims, markers and transient values (the rules: `Store.claimOnce` ...
 * `takeTransient` in ../store.ts). One key each, so every operation is single-slot on Cluster:
 *
 *   Pclaim:<key>         claim: the instant it lapses (ms)              PXAT that instant
 *   Pmark:<key>          marker: the instant it lapses (ms)             PXAT that instant
 *   Ptr:<kind>:<id>      transient value: JSON {u: lapses at, v: value} PXAT u
 *
 * Lapsing is decided by the caller's clock (the stored instant), as for counters; PXAT only
 * reclaims the memory. Every write is acknowledged once replicated (see `DurabilityChecks`).
 *
 * Upgrade: before these operations existed, claims and markers were windowed counters
 * (`Pc:<key>`, hash {n, r}) under the same key names. A live counter of the same key still counts
 * as claimed / marked, read from there until it lapses by itself (markers were kept 400 days), and
 * clearing a marker clears it too; nothing new is written there.
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { checkKind, checkShortLivedKey, checkTransientValue, checkTtl, type TransientValue } from '../short-lived.js';

/** KEYS: claim. ARGV: now, until. 1 for the first claimer, 0 while a claim holds. */
const CLAIM = `
local held = tonumber(redis.call('GET', KEYS[1]))
if held and held > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[2])
return 1
`;

type Call = <T>(what: string, run: () => Promise<T>) => Promise<T>;
type Replicated = (what: string, build: (pipeline: ChainableCommander) => void) => Promise<unknown[]>;

export class RedisShortLived {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly call: Call,
    private readonly replicated: Replicated,
  ) {}

  /** Whether the counter a claim or marker used to be is still live at `now`. */
  private async legacyCounter(what: string, key: string, now: number): Promise<boolean> {
    const [n, r] = await this.call(what, () => this.redis.hmget(`${this.prefix}c:${key}`, 'n', 'r'));
    return Number(n) > 0 && Number(r) > now;
  }

  async claimOnce(key: string, ttlMs: number, now: number): Promise<boolean> {
    checkShortLivedKey('claim key', key);
    checkTtl(ttlMs);
    const [[claimed], legacy] = await Promise.all([
      this.replicated('claimOnce', (p) => p.eval(CLAIM, 1, `${this.prefix}claim:${key}`, now, now + ttlMs)),
      this.legacyCounter('claimOnce', key, now),
    ]);
    return claimed === 1 && !legacy;
  }

  async setMarker(key: string, ttlMs: number, now: number): Promise<void> {
    checkShortLivedKey('marker key', key);
    checkTtl(ttlMs);
    await this.replicated('setMarker', (p) => p.set(`${this.prefix}mark:${key}`, now + ttlMs, 'PXAT', now + ttlMs));
  }

  async hasMarker(key: string, now: number): Promise<boolean> {
    checkShortLivedKey('marker key', key);
    const [until, legacy] = await Promise.all([
      this.call('hasMarker', () => this.redis.get(`${this.prefix}mark:${key}`)),
      this.legacyCounter('hasMarker', key, now),
    ]);
    return Number(until) > now || legacy;
  }

  async clearMarker(key: string): Promise<void> {
    checkShortLivedKey('marker key', key);
    await Promise.all([
      this.replicated('clearMarker', (p) => p.del(`${this.prefix}mark:${key}`)),
      this.replicated('clearMarker', (p) => p.del(`${this.prefix}c:${key}`)),
    ]);
  }

  private transientKey(kind: string, id: string): string {
    checkKind(kind);
    checkShortLivedKey('transient id', id);
    return `${this.prefix}tr:${kind}:${id}`;
  }

  async put(kind: string, id: string, value: TransientValue, ttlMs: number, now: number): Promise<void> {
    const key = this.transientKey(kind, id);
    checkTtl(ttlMs);
    const json = `{"u":${now + ttlMs},"v":${checkTransientValue(value)}}`;
    await this.replicated('putTransient', (p) => p.set(key, json, 'PXAT', now + ttlMs));
  }

  async peek(kind: string, id: string, now: number): Promise<TransientValue | null> {
    const key = this.transientKey(kind, id);
    return unwrap(await this.call('peekTransient', () => this.redis.get(key)), now);
  }

  async take(kind: string, id: string, now: number): Promise<TransientValue | null> {
    const key = this.transientKey(kind, id);
    // GETDEL: the read and the removal are one step, so of concurrent takers one gets the value.
    const [raw] = await this.replicated('takeTransient', (p) => p.getdel(key));
    return unwrap(raw as string | null, now);
  }
}

function unwrap(raw: string | null, now: number): TransientValue | null {
  if (raw === null) return null;
  const { u, v } = JSON.parse(raw) as { u: number; v: TransientValue };
  return u > now ? v : null;
}
