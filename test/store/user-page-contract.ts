/**
 * The part of the Store contract that lists users by page (`listUserPage`). Run by
 * `storeContract`, so it holds on every store it covers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../src/errors.js';
import type { Store, UserPageQuery, UserRecord } from '../../src/store/store.js';
import { usernameKey } from '../../src/store/usernames.js';
import { byteOrder } from '../../src/store/user-pages.js';
import { base62, sampleUser, type StoreFactory } from './contract.js';

export function userPageContract(makeStore: StoreFactory): void {
  describe('listing users by page', () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
    });
    afterEach(() => cleanup());

    const create = async (username: string): Promise<UserRecord> => {
      const user = sampleUser(now, { username });
      await store.createUser(user);
      return user;
    };
    /** Every page from the first; returns the usernames in order and each page's size. */
    const walk = async (query: Omit<UserPageQuery, 'cursor'>): Promise<{ names: string[]; sizes: number[] }> => {
      const names: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listUserPage({ ...query, cursor });
        names.push(...page.users.map((u) => u.username));
        sizes.push(page.users.length);
        cursor = page.next;
      } while (cursor !== undefined && sizes.length < 1000);
      return { names, sizes };
    };
    const inOrder = (names: string[]) => [...names].sort((a, b) => byteOrder(usernameKey(a), usernameKey(b)));

    it('an empty store is one empty page without next', async () => {
      expect(await store.listUserPage({ limit: 10 })).toEqual({ users: [] });
    });

    it('pages through 120 users: each exactly once, by name ignoring case, full pages until the last', async () => {
      const names = Array.from({ length: 120 }, (_, i) => `${i % 2 ? 'User' : 'user'}-${base62(6)}`);
      for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map(create));
      const { names: listed, sizes } = await walk({ limit: 50 });
      expect(sizes).toEqual([50, 50, 20]);
      expect(listed).toEqual(inOrder(names));
    });

    it('returns whole records, and no next when the last page is exactly full', async () => {
      const a = await create('ann');
      const b = await create('bea');
      const first = await store.listUserPage({ limit: 1 });
      expect(first.users).toEqual([a]);
      expect(first.next).toEqual(expect.any(String));
      expect(await store.listUserPage({ limit: 1, cursor: first.next })).toEqual({ users: [b] });
      expect(await store.listUserPage({ limit: 2 })).toEqual({ users: [a, b] });
    });

    it('with a prefix lists only names starting with it, whatever their case, and pages within it', async () => {
      for (const name of ['ops-a', 'OPS-b', 'ops-c', 'opera', 'dev-a', 'zed']) await create(name);
      expect((await walk({ limit: 2, prefix: 'Ops-' })).names).toEqual(['ops-a', 'OPS-b', 'ops-c']);
      expect((await walk({ limit: 10, prefix: 'op' })).names).toEqual(['opera', 'ops-a', 'OPS-b', 'ops-c']);
      expect(await store.listUserPage({ limit: 10, prefix: 'nobody' })).toEqual({ users: [] });
    });

    it('a walk survives changes between pages: resumes after a deleted user, meets users created ahead of it', async () => {
      const users = await Promise.all(['b1', 'b2', 'b3', 'b4'].map(create));
      const first = await store.listUserPage({ limit: 2 });
      expect(first.users.map((u) => u.username)).toEqual(['b1', 'b2']);
      await store.deleteUser(users[1]!.id, 'admin', now); // the cursor's own user
      await store.deleteUser(users[2]!.id, 'admin', now);
      await create('a0'); // behind the cursor: not met by this walk
      await create('b5');
      const rest = await store.listUserPage({ limit: 10, cursor: first.next });
      expect(rest.users.map((u) => u.username)).toEqual(['b4', 'b5']);
      expect(rest.next).toBeUndefined();
      // A deleted user's name taken again is listed once, as the new user.
      const again = await create('b2');
      expect((await walk({ limit: 10 })).names).toEqual(['a0', 'b1', 'b2', 'b4', 'b5']);
      expect((await store.listUserPage({ limit: 10, prefix: 'b2' })).users).toEqual([again]);
    });

    it('refuses a cursor it did not hand out and a limit outside 1..1000, with InvalidRequest', async () => {
      await create('carl');
      for (const cursor of ['', 'nonsense', 'u.', 'u.!!', `u.${Buffer.from('no-separator').toString('base64url')}`, 'a.1.x']) {
        await expect(store.listUserPage({ limit: 10, cursor })).rejects.toBeInstanceOf(InvalidRequest);
      }
      for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
        await expect(store.listUserPage({ limit })).rejects.toBeInstanceOf(InvalidRequest);
      }
    });
  });
}
