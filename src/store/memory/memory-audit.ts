/**
 * The memory store's audit trail: an array in id order, trimmed by age like the Redis Stream
 * (MINID) and, because this process's memory is the limit, also by count (the oldest go first).
 */
import { compareEntryIds, type AuditEntry, type AuditRange } from '../audit-entries.js';

/** At most this many events are kept in memory (about 1 KiB each: ~100 MiB at the bound). */
const MEMORY_AUDIT_MAX_ENTRIES = 100_000;

export class MemoryAuditLog {
  private entries: { ms: number; seq: number; entry: AuditEntry }[] = [];

  constructor(private readonly maxEntries = MEMORY_AUDIT_MAX_ENTRIES) {}

  append(event: string, now: number, retentionMs: number, replaces?: string): string {
    const last = this.entries.at(-1);
    // Ids only grow, as XADD demands: an instant before the newest entry takes that entry's ms.
    const ms = last && last.ms >= now ? last.ms : now;
    const seq = last && last.ms === ms ? last.seq + 1 : 0;
    const id = `${ms}-${seq}`;
    // The entry replaced is an action's own "attempted" one: found from the newest end.
    if (replaces !== undefined) {
      for (let i = this.entries.length - 1; i >= 0; i--) {
        if (this.entries[i]!.entry.id === replaces) {
          this.entries.splice(i, 1);
          break;
        }
      }
    }
    this.entries.push({ ms, seq, entry: { id, event } });
    const horizon = now - retentionMs;
    const firstKept = this.entries.findIndex((e) => e.ms >= horizon);
    const drop = Math.max(firstKept < 0 ? this.entries.length : firstKept, this.entries.length - this.maxEntries);
    if (drop > 0) this.entries.splice(0, drop);
    return id;
  }

  read(range: AuditRange): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < range.count; i--) {
      const { entry } = this.entries[i]!;
      if (range.before !== undefined && compareEntryIds(entry.id, range.before) >= 0) continue;
      if (range.after !== undefined && compareEntryIds(entry.id, range.after) <= 0) break;
      out.push({ ...entry });
    }
    return out;
  }
}
