/**
 * Token scopes: free-form OAuth scope strings (RFC 6749 §3.3) plus resource scopes
 * `resource:<id>:r|w|rw` that restrict a token to one resource and permission (read, write or
 * both). An empty scope means "everything the owner may do".
 *
 * The one rule that matters: nobody grants more than they hold. A full-rights caller may grant
 * anything; a scoped caller may grant only scopes its own scopes cover, and never a full token.
 */
import { InvalidScope } from '../errors.js';

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
const RESOURCE = /^resource:([^:]+):(r|w|rw)$/;
const MAX_SCOPES = 50;

/** Parses a space-separated string or an array into a normalised, deduplicated, sorted list. */
export function parseScopes(input: unknown): string[] {
  if (input === undefined || input === null) return [];
  const parts = typeof input === 'string' ? input.split(' ').filter(Boolean) : input;
  if (!Array.isArray(parts) || parts.some((s) => typeof s !== 'string')) {
    throw new InvalidScope('scopes must be a space-separated string or an array of strings');
  }
  const scopes = [...new Set(parts as string[])].sort();
  if (scopes.length > MAX_SCOPES) throw new InvalidScope(`at most ${MAX_SCOPES} scopes`);
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw new InvalidScope(`malformed scope: ${JSON.stringify(scope.slice(0, 50))}`);
    if (scope.startsWith('resource:') && !RESOURCE.test(scope)) {
      throw new InvalidScope(`resource scopes look like resource:<id>:r, :w or :rw, not ${scope}`);
    }
  }
  return scopes;
}

/** Does `held` (one scope) cover `wanted`? `resource:x:rw` covers `resource:x:r` and `:w`. */
function covers(held: string, wanted: string): boolean {
  if (held === wanted) return true;
  const h = RESOURCE.exec(held);
  const w = RESOURCE.exec(wanted);
  return Boolean(h && w && h[1] === w[1] && h[2] === 'rw');
}

/**
 * The scopes a caller holding `held` may grant, or an InvalidScope error naming the first one it
 * may not. `held === null` means full rights.
 */
export function assertGrantable(held: string[] | null, wanted: string[]): void {
  if (held === null) return;
  if (wanted.length === 0) throw new InvalidScope('a scoped token cannot create a token with full rights; name the scopes');
  const missing = wanted.find((w) => !held.some((h) => covers(h, w)));
  if (missing) throw new InvalidScope(`cannot grant ${missing}: the calling token does not hold it`);
}

export const joinScopes = (scopes: string[]): string => scopes.join(' ');
export const splitScopes = (scope: string): string[] => scope.split(' ').filter(Boolean);

/** Does a credential holding `held` (null = full rights) carry every scope in `wanted`? */
export function holdsAll(held: string[] | null, wanted: string[]): boolean {
  return held === null || wanted.every((w) => held.some((h) => covers(h, w)));
}
