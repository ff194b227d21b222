/**
 * Walks for jobs that visit every user or all of a user's tokens (expiry notices, directory
 * re-validation, the emergency revoke, snapshots): one store page at a time, so a job holds
 * neither the store nor memory for a time or space that grows with the whole store.
 */
import type { TokenRecord, UserRecord } from './records.js';
import type { TokenPage, TokenPageQuery } from './store.js';
import type { UserPage, UserPageQuery } from './user-pages.js';

/** Users per store call in a walk. */
export const WALK_PAGE = 200;

/** Every user, in listing order (see `Store.listUserPage` for what a walk meets). */
export async function* eachUser(store: { listUserPage(q: UserPageQuery): Promise<UserPage> }, pageSize = WALK_PAGE): AsyncGenerator<UserRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.listUserPage({ limit: pageSize, cursor });
    yield* page.users;
    cursor = page.next;
  } while (cursor !== undefined);
}

/** The users in pages of `pageSize` (a page may be short), for work done a batch at a time. */
export async function* userBatches(store: { listUserPage(q: UserPageQuery): Promise<UserPage> }, pageSize = WALK_PAGE): AsyncGenerator<UserRecord[]> {
  let cursor: string | undefined;
  do {
    const page = await store.listUserPage({ limit: pageSize, cursor });
    if (page.users.length) yield page.users;
    cursor = page.next;
  } while (cursor !== undefined);
}

/** A user's tokens as `listTokenPage` orders them: active first, then the retained ones asked for. */
export async function* eachToken(
  store: { listTokenPage(userId: string, q: TokenPageQuery, now: number): Promise<TokenPage> },
  userId: string,
  now: number,
  include: TokenPageQuery['include'] = { revoked: false, expired: false },
  pageSize = WALK_PAGE,
): AsyncGenerator<TokenRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.listTokenPage(userId, { limit: pageSize, cursor, include }, now);
    yield* page.tokens;
    cursor = page.next;
  } while (cursor !== undefined);
}
