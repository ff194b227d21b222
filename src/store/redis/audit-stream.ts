/**
 * The Redis store's audit trail: one Stream, `Paudit` (a single key, so one Cluster slot), one
 * field `e` holding the event JSON. Independent of token records and their retention: a revoked
 * token's record expires, its history here stays for the audit retention.
 *
 * Entry ids are the caller's clock (`<now>-*`), not Redis's, so the retention (MINID) and the
 * time filters use the same clock as every other rule of the store. An instant older than the
 * newest entry takes that entry's millisecond, since XADD only accepts growing ids.
 */
import type { Cluster, Redis } from 'ioredis';
import type { AuditEntry, AuditRange } from '../audit-entries.js';

/**
 * KEYS[1] the stream. ARGV: event JSON, now (ms), min id to keep (ms), entry id to replace or ''.
 * Append, trim and replace in one script: the outcome of an action and the removal of its
 * "attempted" entry happen together or not at all.
 */
const AUDIT_APPEND = `
local ms = tonumber(ARGV[2])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  local lastMs = tonumber(string.match(last[1], '^(%d+)'))
  if lastMs > ms then ms = lastMs end
end
local id = redis.call('XADD', KEYS[1], 'MINID', ARGV[3], string.format('%d', ms) .. '-*', 'e', ARGV[1])
if ARGV[4] ~= '' then redis.call('XDEL', KEYS[1], ARGV[4]) end
return id
`;

type Call = <T>(what: string, run: () => Promise<T>) => Promise<T>;

export class RedisAuditStream {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key: string,
    private readonly call: Call,
  ) {
    this.redis.defineCommand('tesseraAuditAppend', { lua: AUDIT_APPEND, numberOfKeys: 1 });
  }

  append(event: string, now: number, retentionMs: number, replaces?: string): Promise<string> {
    const client = this.redis as unknown as { tesseraAuditAppend(...args: (string | number)[]): Promise<string> };
    return this.call('auditAppend', () => client.tesseraAuditAppend(this.key, event, now, Math.max(0, now - retentionMs), replaces ?? ''));
  }

  async read(range: AuditRange): Promise<AuditEntry[]> {
    if (range.before === '0-0') return []; // nothing is older, and Redis refuses "(0-0" as an end
    const end = range.before !== undefined ? `(${range.before}` : '+';
    const start = range.after !== undefined ? `(${range.after}` : '-';
    const rows = await this.call('auditRead', () => this.redis.xrevrange(this.key, end, start, 'COUNT', range.count));
    return rows.map(([id, fields]) => ({ id, event: fields[fields.indexOf('e') + 1] ?? '{}' }));
  }
}
