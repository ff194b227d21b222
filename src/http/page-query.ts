/**
 * The query parameters of every paged listing: `?limit=` (records per page, default 100; the
 * store refuses anything outside 1..1000) and `?cursor=` (the `next` of the previous page).
 */
import { InvalidRequest } from '../errors.js';

export function pageLimit(value: unknown): number {
  if (value === undefined) return 100;
  if (typeof value !== 'string' || !/^\d{1,7}$/.test(value)) throw new InvalidRequest('limit must be an integer from 1 to 1000');
  return Number(value);
}

export function pageCursor(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidRequest('cursor must be given once');
  return value;
}
