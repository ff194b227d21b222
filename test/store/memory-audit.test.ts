/** The memory store's audit log is bounded: past its size the oldest events go first. */
import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/store/memory/memory-audit.js';

describe('MemoryAuditLog', () => {
  it('keeps at most its bound, dropping the oldest', () => {
    const log = new MemoryAuditLog(3);
    const now = Date.now();
    const ids = [1, 2, 3, 4, 5].map((n) => log.append(JSON.stringify({ n }), now + n, 86_400_000));
    expect(log.read({ count: 10 }).map((e) => e.id)).toEqual(ids.slice(2).reverse());
  });
});
