/**
 * How the store keeps the audit trail: an append-only log of opaque event documents (JSON),
 * ordered by entry ids `<ms>-<seq>` — the Redis Stream id format, which the memory store copies.
 * The store knows nothing of event types or filters (src/audit does); it only appends, replaces
 * an "attempted" entry by its outcome, trims by age, and reads ranges newest first.
 */

/** One stored audit event. `id` is the cursor: entries sort by it, and it grows with time. */
export interface AuditEntry {
  id: string;
  event: string;
}

/** Newest first, ids strictly between `after` and `before` (each optional), at most `count`. */
export interface AuditRange {
  before?: string;
  after?: string;
  count: number;
}

/** An entry id as the store writes it; anything else is refused before it reaches Redis. */
export const AUDIT_ENTRY_ID = /^\d{1,15}-\d{1,15}$/;

/** Orders two entry ids (`<ms>-<seq>`) numerically, as Redis does. */
export function compareEntryIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}
