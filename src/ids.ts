/**
 * Random identifiers. Not secrets, but unguessable. A user id is 12 base62 characters and every
 * token id and token secret starts with its owner's id, so a lookup knows which user's keys (one
 * Redis Cluster slot) to read without an index round trip.
 */
import { randomInt } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const USER_ID_LENGTH = 12;

/** `length` uniformly random base62 characters from the CSPRNG (randomInt avoids modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(62)];
  return out;
}

export const newUserId = (): string => randomBase62(USER_ID_LENGTH);

export const newTokenId = (userId: string): string => userId + randomBase62(10);

export const newSessionId = (): string => randomBase62(16);

export function userIdOfTokenId(tokenId: string): string | null {
  return /^[0-9A-Za-z]{22}$/.test(tokenId) ? tokenId.slice(0, USER_ID_LENGTH) : null;
}
