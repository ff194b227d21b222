/**
 * The id of a configured identity source: stored on each user (`source`), chosen with `source` at
 * login, part of SAML URLs. Lower case, and never `local` (the built-in source). Changing it
 * later orphans the users the source created.
 */
import { z } from 'zod';

export const sourceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, _ and -, at most 32')
  .refine((id) => id !== 'local', 'local is the built-in source');

/** A list of one kind of source, with ids unique within it (users and URLs refer to them). */
export function sourceListSchema<T extends z.ZodType<{ id: string }>>(source: T) {
  return z
    .array(source)
    .default([])
    .superRefine((sources, ctx) => {
      const seen = new Set<string>();
      sources.forEach((s, i) => {
        if (seen.has(s.id)) ctx.addIssue({ code: 'custom', message: `duplicate source id ${s.id}`, path: [i, 'id'] });
        seen.add(s.id);
      });
    });
}
