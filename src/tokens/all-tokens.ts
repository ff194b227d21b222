/**
 * Every user's tokens by page (the admin's `GET /api/v1/tokens?all=true`): a walk over the users
 * in listing order and, within each, over that user's tokens as `Store.listTokenPage` orders
 * them. Each request reads at most ALL_TOKENS_USER_BUDGET users and one page of tokens, so no
 * request grows with the size of the store; a page may come back short (many users without
 * tokens) with a `next` to go on. A user created behind the walk's position is not met.
 *
 * The cursor is opaque to clients: `g.` + base64url of JSON {r: the user walk's cursor after the
 * current user, u: the current user's id, t: the token cursor within that user}; `u` and `t` are
 * absent between users.
 */
import { z } from 'zod';
import { InvalidRequest } from '../errors.js';
import type { TokenRecord, UserRecord } from '../store/records.js';
import type { Store, TokenPageQuery } from '../store/store.js';
import { userCursorAfter } from '../store/user-pages.js';
import { usernameKey } from '../store/usernames.js';

/** Users looked at per request at most (the ones without tokens cost a store call each too). */
export const ALL_TOKENS_USER_BUDGET = 200;
const USER_STEP = 50;

const position = z.strictObject({
  r: z.string().min(1).max(2000).optional(),
  u: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  t: z.string().min(1).max(200).optional(),
});
type Position = z.infer<typeof position>;

const formatCursor = (p: Position): string => `g.${Buffer.from(JSON.stringify(p), 'utf8').toString('base64url')}`;

function parseCursor(cursor: string | undefined): Position {
  if (cursor === undefined) return {};
  const m = /^g\.([A-Za-z0-9_-]{1,4000})$/.exec(cursor);
  let parsed: ReturnType<typeof position.safeParse> | undefined;
  try {
    parsed = m ? position.safeParse(JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'))) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success || (parsed.data.t !== undefined && parsed.data.u === undefined)) throw new InvalidRequest('cursor is not one this server handed out');
  return parsed.data;
}

export interface AllTokensPage {
  entries: { token: TokenRecord; owner: UserRecord }[];
  next?: string;
}

type Reads = Pick<Store, 'getUser' | 'listUserPage' | 'listTokenPage'>;

export async function allTokensPage(store: Reads, query: { limit: number; cursor?: string; include: TokenPageQuery['include'] }, now: number): Promise<AllTokensPage> {
  const at = parseCursor(query.cursor);
  const entries: AllTokensPage['entries'] = [];
  let budget = ALL_TOKENS_USER_BUDGET;

  /** Lists `owner`'s tokens from `from` into the page; returns the cursor to stop at, if it must. */
  const take = async (owner: UserRecord, from: string | undefined): Promise<string | undefined> => {
    const page = await store.listTokenPage(owner.id, { limit: query.limit - entries.length, cursor: from, include: query.include }, now);
    entries.push(...page.tokens.map((token) => ({ token, owner })));
    const after = userCursorAfter(owner, usernameKey);
    if (page.next) return formatCursor({ r: after, u: owner.id, t: page.next });
    return entries.length >= query.limit ? formatCursor({ r: after }) : undefined;
  };

  let users = at.r;
  if (at.u !== undefined) {
    // The user the previous page stopped inside; gone meanwhile: on to the next.
    const owner = await store.getUser(at.u);
    const stop = owner ? await take(owner, at.t) : undefined;
    if (stop) return { entries, next: stop };
    budget--;
  }
  while (budget > 0) {
    const page = await store.listUserPage({ limit: Math.min(USER_STEP, budget), cursor: users });
    for (const owner of page.users) {
      const stop = await take(owner, undefined);
      if (stop) return { entries, next: stop };
    }
    budget -= USER_STEP;
    if (page.next === undefined) return { entries };
    users = page.next;
  }
  return { entries, next: formatCursor({ r: users }) };
}
