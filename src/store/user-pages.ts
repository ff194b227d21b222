/**
 * Users by page (`Store.listUserPage`), shared by both stores so a cursor means the same on
 * either. Users are walked in the order of their index entry: `usernameKey(username)`, then the
 * user id, in byte order. A cursor is the last entry looked at, so a walk resumes after it even
 * if that user was deleted in between, and a user created behind the cursor is simply not met.
 */
import { InvalidRequest } from '../errors.js';
import type { UserRecord } from './records.js';

/** One page of users (`listUserPage`). */
export interface UserPageQuery {
  /** Users per page, 1..1000. */
  limit: number;
  /** The `next` of the previous page; undefined: the first page. */
  cursor?: string;
  /** Only users whose name starts with this (compared as `usernameKey`, ignoring case and width). */
  prefix?: string;
}

export interface UserPage {
  users: UserRecord[];
  /** Where the next page starts; absent on the last page. */
  next?: string;
}

export const MAX_USER_PAGE = 1000;

/**
 * An index entry: the username key and the user id, joined by a NUL (which neither holds), so
 * entries sort by name first and a stale entry of a deleted user never names a later user of the
 * same name (ids are never reused).
 */
export const userEntry = (key: string, id: string): string => `${key}\u0000${id}`;

export function splitUserEntry(entry: string): { key: string; id: string } | undefined {
  const at = entry.lastIndexOf('\u0000');
  return at < 0 ? undefined : { key: entry.slice(0, at), id: entry.slice(at + 1) };
}

export const formatUserCursor = (entry: string): string => `u.${Buffer.from(entry, 'utf8').toString('base64url')}`;

const CURSOR = /^u\.([A-Za-z0-9_-]{1,1400})$/;

/** The entry a cursor stands for; `InvalidRequest` for anything this server did not hand out. */
export function parseUserCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const m = CURSOR.exec(cursor);
  const entry = m ? Buffer.from(m[1]!, 'base64url').toString('utf8') : '';
  if (!splitUserEntry(entry) || formatUserCursor(entry) !== cursor) throw new InvalidRequest('cursor is not one this server handed out');
  return entry;
}

export function checkUserPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_USER_PAGE) throw new InvalidRequest(`limit must be an integer from 1 to ${MAX_USER_PAGE}`);
}

/** Byte order of UTF-8 strings, as Redis compares members of equal score. */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The cursor that resumes a walk right after `user`, for a caller that stops part-way through a
 * page (a filtered search). Names the entry the user is listed under.
 */
export const userCursorAfter = (user: Pick<UserRecord, 'id' | 'username'>, key: (name: string) => string): string => formatUserCursor(userEntry(key(user.username), user.id));
