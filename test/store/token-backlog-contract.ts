/**
 * The part of the Store contract about many tokens changing state at once: a batch that expires
 * together (a CI user's short-lived tokens), and revoke-all of many. A store may spread the work
 * such a batch causes over several calls (Redis moves a bounded number of records per script
 * call so no call holds it long); none of that may show: the per-user limit counts exactly the
 * active tokens at once, under concurrency too, evicting never picks an expired token, and
 * listings see every record in its state. Sizes are several times the Redis step (scripts.ts
 * STEP) and the records one page call reads, so each case crosses several calls. Run by
 * `storeContract`, so it holds on every store it covers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Conflict } from '../../src/errors.js';
import type { Store, TokenLimit, TokenPageQuery, TokenRecord, UserRecord } from '../../src/store/store.js';
import { DAY, HOUR, base62, hex64, sampleUser, type StoreFactory } from './contract.js';

/** Several Redis steps (scripts.ts STEP) and page calls, and not a multiple of either. */
const BATCH = 65;
const LOOSE: TokenLimit = { max: 10_000, onLimit: 'refuse' };

export function tokenBacklogContract(makeStore: StoreFactory): void {
  describe('many tokens changing state at once', () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;
    let owner: UserRecord;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
      owner = sampleUser(now);
      await store.createUser(owner);
    });
    afterEach(() => cleanup());

    const newToken = (over: Partial<TokenRecord> = {}): TokenRecord => ({
      id: base62(16), userId: owner.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + 30 * DAY, createdBy: 'x', hash: hex64(), ...over,
    });
    const insert = async (over: Partial<TokenRecord> = {}): Promise<TokenRecord> => {
      const t = newToken(over);
      await store.insertToken(t, LOOSE, now);
      return t;
    };
    /**
     * BATCH tokens that all expire an hour from now, created before `active` lasting ones (so
     * they are the oldest, first in line for eviction); then the clock moves past their end.
     */
    const expiredBatchThen = async (active: number): Promise<{ expired: TokenRecord[]; live: TokenRecord[] }> => {
      const expired: TokenRecord[] = [];
      for (let i = 0; i < BATCH; i++) expired.push(await insert({ createdAt: now - 10 * HOUR + i, expiresAt: now + HOUR }));
      const live: TokenRecord[] = [];
      for (let i = 0; i < active; i++) live.push(await insert({ createdAt: now - 5 * HOUR + i }));
      now += 2 * HOUR;
      return { expired, live };
    };
    const isActive = (t: TokenRecord): boolean => t.revokedAt === undefined && t.expiresAt > now;
    const activeIds = async (): Promise<string[]> => (await store.listTokens(owner.id, now)).filter(isActive).map((t) => t.id).sort();
    const ids = (ts: TokenRecord[]): string[] => ts.map((t) => t.id).sort();
    const allPages = async (query: Omit<TokenPageQuery, 'cursor'>): Promise<TokenRecord[]> => {
      const out: TokenRecord[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listTokenPage(owner.id, { ...query, cursor }, now);
        out.push(...page.tokens);
        cursor = page.next;
        expect(++pages).toBeLessThan(1000);
      } while (cursor);
      return out;
    };

    it('the limit counts exactly the active tokens at once, however many expired together (refuse)', async () => {
      const { live } = await expiredBatchThen(3);
      const limit: TokenLimit = { max: 5, onLimit: 'refuse' };
      const fourth = newToken();
      const fifth = newToken();
      expect(await store.insertToken(fourth, limit, now)).toEqual({ evicted: [] });
      expect(await store.insertToken(fifth, limit, now)).toEqual({ evicted: [] });
      const refused = newToken();
      await expect(store.insertToken(refused, limit, now)).rejects.toBeInstanceOf(Conflict);
      expect(await store.getToken(owner.id, refused.id)).toBeNull();
      expect(await activeIds()).toEqual(ids([...live, fourth, fifth]));
    });

    it('evicting after many expired together revokes the oldest active token, never an expired one', async () => {
      const { expired, live } = await expiredBatchThen(3);
      const fresh = newToken();
      expect(await store.insertToken(fresh, { max: 3, onLimit: 'evict' }, now)).toEqual({ evicted: [live[0]!.id] });
      expect(await store.getToken(owner.id, live[0]!.id)).toMatchObject({ revokedAt: now, revokedBy: 'system:token-limit' });
      expect(await activeIds()).toEqual(ids([live[1]!, live[2]!, fresh]));
      for (const t of expired) expect((await store.getToken(owner.id, t.id))?.revokedAt).toBeUndefined();
    });

    it('the limit holds under 20 concurrent inserts right after many expired together (evict and refuse)', async () => {
      const { live } = await expiredBatchThen(3);
      const evicting = Array.from({ length: 20 }, (_, i) => newToken({ createdAt: now + i }));
      const results = await Promise.all(evicting.map((t) => store.insertToken(t, { max: 5, onLimit: 'evict' }, now)));
      const evicted = results.flatMap((r) => r.evicted);
      // 3 + 20 active tokens down to 5 (which 5 depends on the order the inserts arrive in; the
      // 3 older ones go first whatever it is), and no expired token among those evicted.
      expect(evicted).toHaveLength(18);
      expect(new Set(evicted).size).toBe(18);
      for (const t of live) expect(evicted).toContain(t.id);
      const active = await activeIds();
      expect(active).toHaveLength(5);
      expect(ids([...active.map((id) => ({ id }) as TokenRecord), ...evicted.map((id) => ({ id }) as TokenRecord)])).toEqual(ids([...live, ...evicting]));

      const other = sampleUser(now);
      await store.createUser(other);
      owner = other;
      await expiredBatchThen(3);
      const refusing = Array.from({ length: 20 }, () => newToken());
      const settled = await Promise.allSettled(refusing.map((t) => store.insertToken(t, { max: 5, onLimit: 'refuse' }, now)));
      expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of settled) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(Conflict);
      expect(await activeIds()).toHaveLength(5);
    });

    it('a limit lowered far below the active count evicts every token over it, oldest first, and no more', async () => {
      const made: TokenRecord[] = [];
      for (let i = 0; i < BATCH; i++) made.push(await insert({ createdAt: now - 1000 + i }));
      const fresh = newToken();
      expect(await store.insertToken(fresh, { max: 3, onLimit: 'evict' }, now)).toEqual({ evicted: made.slice(0, BATCH - 2).map((t) => t.id) });
      expect(await activeIds()).toEqual(ids([...made.slice(BATCH - 2), fresh]));
      for (const t of made.slice(0, BATCH - 2)) expect(await store.getToken(owner.id, t.id)).toMatchObject({ revokedAt: now, revokedBy: 'system:token-limit' });
      // Two at once, each over a lowered limit: together they evict what one after the other would.
      const [a, b] = [newToken({ createdAt: now + 1 }), newToken({ createdAt: now + 2 })];
      for (let i = 0; i < 2 * BATCH; i++) await insert({ createdAt: now - 500 + i });
      const both = await Promise.all([a, b].map((t) => store.insertToken(t, { max: 2, onLimit: 'evict' }, now)));
      // 3 + 2 * BATCH active, plus the two new ones, down to 2.
      const evicted = both.flatMap((r) => r.evicted);
      expect(evicted).toHaveLength(3 + 2 * BATCH);
      expect(new Set(evicted).size).toBe(evicted.length);
      expect(await activeIds()).toHaveLength(2);
    });

    it('a page right after many expired together lists every active token, and every expired one when asked', async () => {
      const { expired, live } = await expiredBatchThen(7);
      const first = await store.listTokenPage(owner.id, { limit: 10, include: { revoked: false, expired: false } }, now);
      expect(first.tokens.map((t) => t.id)).toEqual(live.map((t) => t.id));
      expect(first.next).toBeUndefined();
      const withExpired = await allPages({ limit: 30, include: { revoked: false, expired: true } });
      expect(withExpired.slice(0, 7).map((t) => t.id)).toEqual(live.map((t) => t.id));
      expect(ids(withExpired.slice(7))).toEqual(ids(expired));
      for (const t of withExpired.slice(7)) expect(t).toMatchObject({ expiresAt: expired[0]!.expiresAt, hash: expect.any(String) });
      expect(await allPages({ limit: 30, include: { revoked: true, expired: false } })).toHaveLength(7);
    });

    it('one page of up to 1,000 records comes back whole however it is read', async () => {
      const made: TokenRecord[] = [];
      for (let i = 0; i < 3 * BATCH; i++) made.push(await insert({ createdAt: now - 1000 + i }));
      const page = await store.listTokenPage(owner.id, { limit: 1000, include: { revoked: false, expired: false } }, now);
      expect(page.tokens.map((t) => t.id)).toEqual(made.map((t) => t.id));
      expect(page.next).toBeUndefined();
      const part = await store.listTokenPage(owner.id, { limit: 2 * BATCH, include: { revoked: false, expired: false } }, now);
      expect(part.tokens.map((t) => t.id)).toEqual(made.slice(0, 2 * BATCH).map((t) => t.id));
      expect(part.next).toBeDefined();
    });

    it('revokeUserTokens revokes every one of many active tokens, counts them exactly, and leaves expired ones alone', async () => {
      const { expired, live } = await expiredBatchThen(BATCH);
      expect(await store.revokeUserTokens(owner.id, 'admin:root', now)).toBe(BATCH);
      for (const t of live) {
        expect(await store.getToken(owner.id, t.id)).toMatchObject({ revokedAt: now, revokedBy: 'admin:root' });
        expect(await store.useToken(owner.id, t.hash, now, '10.0.0.1')).toBeNull();
      }
      for (const t of expired) expect((await store.getToken(owner.id, t.id))?.revokedAt).toBeUndefined();
      expect(await activeIds()).toEqual([]);
      expect(await store.revokeUserTokens(owner.id, 'admin:root', now)).toBe(0);
      const everything = await allPages({ limit: 50, include: { revoked: true, expired: true } });
      expect(ids(everything)).toEqual(ids([...live, ...expired]));
    });

    it('deleteUser revokes every one of many active tokens', async () => {
      const { live } = await expiredBatchThen(BATCH);
      await store.deleteUser(owner.id, 'admin:root', now);
      for (const t of live) {
        expect(await store.getToken(owner.id, t.id)).toMatchObject({ revokedAt: now, revokedBy: 'admin:root' });
        expect(await store.useToken(owner.id, t.hash, now, '10.0.0.1')).toBeNull();
      }
    });
  });
}
