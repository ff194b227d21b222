/**
 * Replicated acknowledgement for `RedisStore` (the rule is stated at `DurabilityChecks` in
 * store.ts): a write that grants or takes away access is sent together with `WAIT n timeout` in
 * one pipeline, so both reach the same server on the same connection, and `WAIT` answers how
 * many replicas have every earlier write of that connection. On Cluster ioredis sends a pipeline
 * to the master owning its keys' slot (keyless `WAIT` does not count for routing), which is the
 * only node whose replicas matter for that write.
 *
 * These writes use a connection of their own (`RedisStore` duplicates its client): `WAIT` blocks
 * the connection it runs on, and the bearer check must never queue behind it.
 *
 * How many replicas: `store.replicaAcks` when set; otherwise every replica seen connected to a
 * primary since start (the high-water mark, refreshed by the periodic checks), so a replica that
 * dies still counts and its absence answers 503 instead of silently acknowledging writes that
 * live on the primary alone. With no replica ever seen, no `WAIT` is sent. On Cluster it is one
 * number for all masters (the most any had): a master with fewer replicas than its peers makes
 * its writes answer 503, which the periodic check reports as a warning.
 *
 * While replicas fail to confirm, only one `WAIT` is in flight at a time (the probe that finds
 * out when they are back); other writes are applied and answered 503 at once, so a dead replica
 * cannot pile up `WAIT`s of `replicaAckTimeout` each on the connection.
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { TemporarilyUnavailable } from '../../errors.js';
import { connectedReplicas } from './checks.js';

export interface ReplicaAckOptions {
  /** Fixed number of replicas to wait for; undefined: every replica seen (see above). */
  required?: number;
  timeoutMs: number;
  log: (line: string) => void;
}

export class ReplicaAcks {
  private highWater = 0;
  private discovered = false;
  /** The last WAIT came back short: answer 503 until a probe sees enough replicas again. */
  private degraded = false;
  private probing = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: ReplicaAckOptions,
  ) {}

  /** Feeds the replica counts the periodic check read (one per primary). */
  observe(counts: number[]): void {
    if (counts.length === 0) return; // a Cluster not connected yet knows no primaries
    this.discovered = true;
    this.highWater = Math.max(this.highWater, ...counts);
  }

  /** Replicas each acknowledged write needs. */
  async required(): Promise<number> {
    if (this.options.required !== undefined) return this.options.required;
    if (!this.discovered) {
      await this.redis.ping(); // a Cluster lists its primaries only once connected
      this.observe(await connectedReplicas(this.redis));
    }
    return this.highWater;
  }

  /**
   * Runs `build`'s commands (one slot on Cluster) in one pipeline followed by WAIT; returns their
   * replies. Throws `TemporarilyUnavailable` when fewer replicas than required confirm.
   */
  async write(what: string, build: (pipeline: ChainableCommander) => void): Promise<unknown[]> {
    const needed = await this.required();
    const pipeline = this.redis.pipeline();
    build(pipeline);
    // Degraded: one write at a time carries the WAIT that finds out whether replicas are back.
    const probing = needed > 0 && this.degraded && !this.probing;
    const waits = needed > 0 && (!this.degraded || probing);
    if (probing) this.probing = true;
    if (waits) pipeline.wait(needed, this.options.timeoutMs);
    try {
      const replies = (await pipeline.exec()) ?? [];
      for (const [error] of replies) if (error) throw error;
      const values = replies.map(([, value]) => value);
      if (needed === 0) return values;
      const confirmed = waits ? Number(values.pop()) : 0;
      this.degraded = confirmed < needed;
      if (this.degraded) {
        const seen = waits ? `confirmed by ${confirmed} of ${needed} replicas within ${this.options.timeoutMs} ms` : `not confirmed (replicas are not confirming writes; ${needed} needed)`;
        const message = `redis: ${what} was applied on the primary but ${seen}: answered 503, a retry is safe; a failover now could undo it`;
        this.options.log(message);
        throw new TemporarilyUnavailable(message);
      }
      return values;
    } finally {
      if (probing) this.probing = false;
    }
  }
}
