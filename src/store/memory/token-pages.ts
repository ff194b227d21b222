/**
 * One page of a user's tokens in the memory store: the same walk as the Redis script
 * (redis/token-pages.ts), so a cursor means the same on both. Active tokens by (createdAt, id),
 * then the retained ones asked for by (audit horizon, id). A walk of one user's map is cheap.
 */
import type { TokenRecord } from '../records.js';
import type { TokenPage, TokenPageQuery } from '../store.js';
import { compareCursor, formatTokenCursor, type TokenCursor } from '../token-cursor.js';

export function tokenPage(tokens: Iterable<TokenRecord>, query: TokenPageQuery, after: TokenCursor | undefined, now: number, retentionMs: number): TokenPage {
  const { revoked, expired } = query.include;
  const walk: { at: TokenCursor; token: TokenRecord }[] = [];
  for (const token of tokens) {
    if (!token.revokedAt && token.expiresAt > now) walk.push({ at: { phase: 'a', score: token.createdAt, id: token.id }, token });
    else if (token.revokedAt ? revoked : expired) {
      walk.push({ at: { phase: 'r', score: (token.revokedAt ?? token.expiresAt) + retentionMs, id: token.id }, token });
    }
  }
  const rest = walk.filter((e) => !after || compareCursor(e.at, after) > 0).sort((a, b) => compareCursor(a.at, b.at));
  const page = rest.slice(0, query.limit);
  const next = rest.length > page.length ? formatTokenCursor(page[page.length - 1]!.at) : undefined;
  return { tokens: page.map((e) => e.token), ...(next ? { next } : {}) };
}
