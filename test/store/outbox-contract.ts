/** The outbox (src/store/outbox.ts) on every store: bounded, idempotent, claims exclusive within a lease. */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { StoreFactory } from './contract.js';

export function outboxContract(name: string, makeStore: StoreFactory): void {
  describe(`${name}: outbox`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const q = () => `q-${randomUUID()}`;
    const now = 1_800_000_000_000;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => cleanup());

    it('adds once per id and refuses past its bound', async () => {
      const queue = q();
      expect(await store.outboxAdd(queue, 'a', 'A', now, 2)).toBe('added');
      expect(await store.outboxAdd(queue, 'a', 'other', now, 2)).toBe('exists');
      expect(await store.outboxAdd(queue, 'b', 'B', now, 2)).toBe('added');
      expect(await store.outboxAdd(queue, 'c', 'C', now, 2)).toBe('full');
      expect(await store.outboxSize(queue)).toBe(2);
      expect((await store.outboxPeek(queue, 10)).map((i) => [i.id, i.payload])).toEqual([['a', 'A'], ['b', 'B']]);
    });

    it('claims due items once per lease, and again after it', async () => {
      const queue = q();
      await store.outboxAdd(queue, 'late', 'L', now + 5000, 10);
      await store.outboxAdd(queue, 'due', 'D', now, 10);
      const [first, second] = await Promise.all([store.outboxClaim(queue, now, 1000, 10), store.outboxClaim(queue, now, 1000, 10)]);
      const claimed = [...first, ...second];
      expect(claimed.map((i) => [i.id, i.payload, i.attempts])).toEqual([['due', 'D', 1]]);
      expect(await store.outboxClaim(queue, now + 999, 1000, 10)).toEqual([]);
      const again = await store.outboxClaim(queue, now + 1000, 1000, 10);
      expect(again.map((i) => [i.id, i.attempts])).toEqual([['due', 2]]);
    });

    it('removes and defers', async () => {
      const queue = q();
      await store.outboxAdd(queue, 'a', 'A', now, 10);
      await store.outboxAdd(queue, 'b', 'B', now, 10);
      await store.outboxDefer(queue, 'a', now + 60_000);
      await store.outboxDefer(queue, 'gone', now); // no such item: nothing happens
      expect((await store.outboxClaim(queue, now, 1000, 10)).map((i) => i.id)).toEqual(['b']);
      expect(await store.outboxRemove(queue, ['b', 'nope'])).toBe(1);
      expect((await store.outboxPeek(queue, 10)).map((i) => [i.id, i.dueAt])).toEqual([['a', now + 60_000]]);
      expect(await store.outboxSize(queue)).toBe(1);
    });

    it('refuses a queue name that is not a plain name', async () => {
      await expect(store.outboxAdd('bad name}', 'a', 'A', now, 10)).rejects.toThrow(/invalid outbox name/);
    });

    it('keeps a delivery log to its bound, newest first', async () => {
      const log = q();
      for (const entry of ['1', '2', '3']) await store.deliveryLogPush(log, entry, 2);
      expect(await store.deliveryLogRead(log, 10)).toEqual(['3', '2']);
      expect(await store.deliveryLogRead(q(), 10)).toEqual([]);
    });
  });
}
