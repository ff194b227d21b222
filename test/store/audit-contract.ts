/**
 * The audit-trail part of the Store contract (run from `storeContract` on every store). Tests
 * bound their reads by the ids they appended, so a store shared between tests still passes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareEntryIds } from '../../src/store/audit-entries.js';
import type { Store } from '../../src/store/store.js';

const DAY = 24 * 60 * 60 * 1000;
const RETENTION = 90 * DAY;

type Factory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export function auditContract(name: string, makeStore: Factory): void {
  describe(`Store contract (audit trail): ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
    });
    afterEach(async () => cleanup());

    const event = (n: number) => JSON.stringify({ n, note: `évènement ${n}` });

    it('appends with growing ids and reads newest first within a range', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push(await store.auditAppend(event(n), now, RETENTION));
      for (let i = 1; i < ids.length; i++) expect(compareEntryIds(ids[i]!, ids[i - 1]!)).toBeGreaterThan(0);
      const before = `${Number(ids[4]!.split('-')[0]) + 1}-0`;
      const all = await store.auditRead({ after: `${now - 1}-0`, before, count: 100 });
      expect(all.map((e) => e.id)).toEqual([...ids].reverse());
      expect(all.map((e) => JSON.parse(e.event).n)).toEqual([4, 3, 2, 1, 0]);
      const page = await store.auditRead({ before: ids[3], after: ids[0], count: 100 });
      expect(page.map((e) => e.id)).toEqual([ids[2], ids[1]]);
      const limited = await store.auditRead({ before: ids[4], count: 2 });
      expect(limited.map((e) => e.id)).toEqual([ids[3], ids[2]]);
    });

    it('replacing an entry removes it in the same step as the new one is added', async () => {
      const attempted = await store.auditAppend(event(1), now, RETENTION);
      const outcome = await store.auditAppend(event(2), now, RETENTION, attempted);
      const read = await store.auditRead({ after: `${now - 1}-0`, count: 100 });
      expect(read.map((e) => e.id)).toContain(outcome);
      expect(read.map((e) => e.id)).not.toContain(attempted);
    });

    it('an instant before the newest entry still gets a greater id', async () => {
      const first = await store.auditAppend(event(1), now + 5000, RETENTION);
      const second = await store.auditAppend(event(2), now, RETENTION);
      expect(compareEntryIds(second, first)).toBeGreaterThan(0);
    });

    it('concurrent appends all get distinct ids', async () => {
      const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => store.auditAppend(event(n), now, RETENTION)));
      expect(new Set(ids).size).toBe(20);
    });

    it('drops entries older than the retention when appending', async () => {
      const old = await store.auditAppend(event(1), now, DAY);
      const later = now + DAY + 1000;
      const fresh = await store.auditAppend(event(2), later, DAY);
      const read = await store.auditRead({ after: `${now - 1}-0`, count: 100 });
      expect(read.map((e) => e.id)).toContain(fresh);
      expect(read.map((e) => e.id)).not.toContain(old);
    });
  });
}
