/**
 * Groups → roles, the same way for every identity source. Group names compare
 * case-insensitively (after trimming): `Admins`, `admins` and `ADMINS` are one group, as LDAP
 * compares `cn` and as operators type names into config. The same rule decides
 * `tokens.creators.groups`.
 */
import { z } from 'zod';
import type { Role } from '../store/records.js';

export const roleMappingSchema = z.strictObject({
  /**
   * Members of any of these groups are Tessera admins; everyone else of this source is `normal`.
   * Checked at every sign-in (and every re-validation, where the source has one), so removing
   * someone from the group demotes them. Leave `roleMapping` out to manage the roles of this
   * source's users in Tessera instead.
   */
  admin: z.array(z.string().min(1)).min(1),
});

export type RoleMapping = z.output<typeof roleMappingSchema>;

/** The one group-matching rule: case-insensitive, surrounding spaces ignored. */
export function sameGroup(a: string, b: string): boolean {
  return a.trim().localeCompare(b.trim(), undefined, { sensitivity: 'accent' }) === 0;
}

/** Is any of `groups` one of `names`? */
export function inAnyGroup(groups: readonly string[], names: readonly string[]): boolean {
  return groups.some((g) => names.some((n) => sameGroup(g, n)));
}

/** The role a mapping gives; undefined without a mapping (the role is Tessera's to manage). */
export function roleFor(groups: readonly string[], mapping: RoleMapping | undefined): Role | undefined {
  if (!mapping) return undefined;
  return inAnyGroup(groups, mapping.admin) ? 'admin' : 'normal';
}
