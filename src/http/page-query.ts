/**
 * The query parameters of every paged listing, as schema fields for the route table:
 * `?limit=` (records per page, default 100; the store refuses anything outside 1..1000) and
 * `?cursor=` (the `next` of the previous page; empty means the first page).
 */
import { z } from 'zod';

export const pageQuery = {
  limit: z
    .string()
    .regex(/^\d{1,7}$/, { error: 'must be an integer from 1 to 1000' })
    .transform(Number)
    .optional()
    .describe('records per page, 1 to 1000 (default 100)'),
  cursor: z
    .string()
    .optional()
    .transform((value) => value || undefined)
    .describe('the previous page\'s next'),
};
