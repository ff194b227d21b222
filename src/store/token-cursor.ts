/**
 * The cursor of `Store.listTokenPage`, shared by both stores so a cursor means the same on
 * either: `<phase>.<score>.<id>`, the last record looked at. Phase `a` walks the active tokens by
 * (createdAt, id), phase `r` the retained ones by (audit horizon, id).
 */
import { InvalidRequest } from '../errors.js';

export interface TokenCursor {
  phase: 'a' | 'r';
  score: number;
  id: string;
}

const CURSOR = /^([ar])\.(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/;

export const MAX_PAGE = 1000;

export function parseTokenCursor(cursor: string | undefined): TokenCursor | undefined {
  if (cursor === undefined) return undefined;
  const m = CURSOR.exec(cursor);
  if (!m) throw new InvalidRequest('cursor is not one this server handed out');
  return { phase: m[1] as 'a' | 'r', score: Number(m[2]), id: m[3]! };
}

export const formatTokenCursor = (c: TokenCursor): string => `${c.phase}.${c.score}.${c.id}`;

export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidRequest(`limit must be an integer from 1 to ${MAX_PAGE}`);
}

/** Position order of the walk: phase a before r, then score, then id in byte order. */
export function compareCursor(a: TokenCursor, b: TokenCursor): number {
  if (a.phase !== b.phase) return a.phase === 'a' ? -1 : 1;
  if (a.score !== b.score) return a.score - b.score;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
