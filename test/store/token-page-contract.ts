/**
 * The part of the Store contract that lists tokens by page (`listTokenPage`). Run by
 * `storeContract`, so it holds on every store it covers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../src/errors.js';
import type { Store, TokenPageQuery, TokenRecord, UserRecord } from '../../src/store/store.js';
import { AUDIT_RETENTION_MS, DAY, HOUR, base62, hex64, sampleUser, type StoreFactory } from './contract.js';

const ACTIVE_ONLY = { revoked: false, expired: false };
const EVERYTHING = { revoked: true, expired: true };

export function tokenPageContract(makeStore: StoreFactory): void {
  describe('listing tokens by page', () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
    });
    afterEach(() => cleanup());

    const user = async (): Promise<UserRecord> => {
      const u = sampleUser(now);
      await store.createUser(u);
      return u;
    };
    const token = async (owner: UserRecord, over: Partial<TokenRecord> = {}): Promise<TokenRecord> => {
      const t: TokenRecord = { id: base62(16), userId: owner.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'x', hash: hex64(), ...over };
      await store.insertToken(t, { max: 10_000, onLimit: 'refuse' }, now);
      return t;
    };
    /** Every page from the first, in order; checks each page's size on the way. */
    const allPages = async (userId: string, query: Omit<TokenPageQuery, 'cursor'>): Promise<{ ids: string[]; pages: number }> => {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listTokenPage(userId, { ...query, cursor }, now);
        expect(page.tokens.length).toBeLessThanOrEqual(query.limit);
        ids.push(...page.tokens.map((t) => t.id));
        cursor = page.next;
        pages++;
        expect(pages).toBeLessThan(10_000); // a cursor that never ends fails here, not by timeout
      } while (cursor);
      return { ids, pages };
    };
    const byAge = (a: TokenRecord, b: TokenRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

    it('pages through 1,000 active tokens oldest first, each once, ties in createdAt included', async () => {
      const owner = await user();
      const t0 = now;
      const made: TokenRecord[] = [];
      // Three tokens share each creation time: a cursor must resume inside a run of equal times.
      for (let i = 0; i < 1000; i++) made.push(await token(owner, { createdAt: t0 - 1000 + Math.floor(i / 3) }));
      const expected = [...made].sort(byAge).map((t) => t.id);

      const { ids, pages } = await allPages(owner.id, { limit: 100, include: ACTIVE_ONLY });
      expect(ids).toEqual(expected);
      expect(pages).toBe(10);
      // A page size that does not divide the count, and one larger than it.
      expect((await allPages(owner.id, { limit: 7, include: ACTIVE_ONLY })).ids).toEqual(expected);
      const whole = await store.listTokenPage(owner.id, { limit: 1000, include: ACTIVE_ONLY }, now);
      expect(whole.tokens.map((t) => t.id)).toEqual(expected);
      expect(whole.next).toBeUndefined();
    });

    it('never lists retained records as active, and lists them after the active ones when asked', async () => {
      const owner = await user();
      const active = [await token(owner), await token(owner)];
      const revoked = [await token(owner), await token(owner), await token(owner)];
      const expiring = [await token(owner, { expiresAt: now + HOUR }), await token(owner, { expiresAt: now + HOUR })];
      for (const t of revoked) await store.revokeToken(owner.id, t.id, 'ada', now);
      now += HOUR;
      const ids = (ts: TokenRecord[]) => ts.map((t) => t.id).sort();

      const activeOnly = await allPages(owner.id, { limit: 2, include: ACTIVE_ONLY });
      expect(activeOnly.ids.sort()).toEqual(ids(active));
      const withRevoked = await allPages(owner.id, { limit: 2, include: { revoked: true, expired: false } });
      expect(withRevoked.ids.slice(0, 2).sort()).toEqual(ids(active));
      expect(withRevoked.ids.slice(2).sort()).toEqual(ids(revoked));
      const withExpired = await allPages(owner.id, { limit: 2, include: { revoked: false, expired: true } });
      expect(withExpired.ids.slice(2).sort()).toEqual(ids(expiring));
      const everything = await allPages(owner.id, { limit: 3, include: EVERYTHING });
      expect(everything.ids.slice(0, 2).sort()).toEqual(ids(active));
      expect([...everything.ids].sort()).toEqual(ids([...active, ...revoked, ...expiring]));
      expect(new Set(everything.ids).size).toBe(everything.ids.length);

      // The records come back whole, retained ones with their state.
      const page = await store.listTokenPage(owner.id, { limit: 100, include: EVERYTHING }, now);
      const revokedRecord = page.tokens.find((t) => t.id === revoked[0]!.id);
      expect(revokedRecord).toMatchObject({ revokedAt: now - HOUR, revokedBy: 'ada', hash: revoked[0]!.hash });
      // Retained records never count against the limit either.
      await store.insertToken({ ...active[0]!, id: base62(16), hash: hex64() }, { max: 3, onLimit: 'refuse' }, now);
    });

    it('forgets retained records at their audit horizon', async () => {
      const owner = await user();
      const kept = await token(owner);
      const gone = await token(owner);
      await store.revokeToken(owner.id, gone.id, 'ada', now);
      now += AUDIT_RETENTION_MS;
      const page = await store.listTokenPage(owner.id, { limit: 10, include: EVERYTHING }, now);
      expect(page.tokens.map((t) => t.id)).toEqual([kept.id]);
    });

    it('resumes after the cursor even when that token was revoked in between', async () => {
      const owner = await user();
      const made: TokenRecord[] = [];
      for (let i = 0; i < 6; i++) made.push(await token(owner, { createdAt: now - 10 + i }));
      const first = await store.listTokenPage(owner.id, { limit: 3, include: ACTIVE_ONLY }, now);
      expect(first.tokens.map((t) => t.id)).toEqual(made.slice(0, 3).map((t) => t.id));
      await store.revokeToken(owner.id, made[2]!.id, 'ada', now);
      const second = await store.listTokenPage(owner.id, { limit: 3, cursor: first.next, include: ACTIVE_ONLY }, now);
      expect(second.tokens.map((t) => t.id)).toEqual(made.slice(3).map((t) => t.id));
      expect(second.next).toBeUndefined();
    });

    it('refuses a cursor it did not hand out and a limit out of range, changing nothing', async () => {
      const owner = await user();
      await token(owner);
      for (const cursor of ['', 'x.1.abc', 'a.1.', 'a.-1.abc', 'a.1.a b', 'a.1.abc.def']) {
        await expect(store.listTokenPage(owner.id, { limit: 10, cursor, include: ACTIVE_ONLY }, now)).rejects.toBeInstanceOf(InvalidRequest);
      }
      for (const limit of [0, -1, 1.5, 1001]) {
        await expect(store.listTokenPage(owner.id, { limit, include: ACTIVE_ONLY }, now)).rejects.toBeInstanceOf(InvalidRequest);
      }
      expect((await store.listTokenPage(owner.id, { limit: 10, include: ACTIVE_ONLY }, now)).tokens).toHaveLength(1);
      expect(await store.listTokenPage(base62(12), { limit: 10, include: EVERYTHING }, now)).toEqual({ tokens: [] });
    });
  });
}
