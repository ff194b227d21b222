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
