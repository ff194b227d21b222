/**
 * The rules both stores apply to claims, markers and transient values (`Store.claimOnce` ...
 * `takeTransient`): what a key, a kind and a lifetime may be. Checked before anything is stored,
 * so bad input changes nothing.
 */

/** A transient value: a JSON object (what survives JSON.stringify/parse is what is kept). */
export type TransientValue = Record<string, unknown>;

/** Keys and ids are chosen by callers, often from request input: bounded, and printable. */
const MAX_KEY_LENGTH = 1024;
const KIND = /^[a-z][a-z0-9-]{0,63}$/;

export function checkShortLivedKey(what: string, key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`${what} must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
}

/** Ten years: longer than anything is kept (markers: 400 days), short enough for any clock. */
const MAX_TTL_MS = 3650 * 86_400_000;

/** A lifetime in whole milliseconds, 1 ms to ten years. */
export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
    throw new RangeError(`ttlMs must be an integer from 1 to ${MAX_TTL_MS}, got ${ttlMs}`);
  }
}

/** Kinds name a key space; a `:` in one could make `kind:id` pairs collide. */
export function checkKind(kind: string): void {
  if (typeof kind !== 'string' || !KIND.test(kind)) throw new RangeError(`transient kind must be lower-case letters, digits and dashes, got ${JSON.stringify(kind)}`);
}

export function checkTransientValue(value: TransientValue): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RangeError('a transient value must be a JSON object');
  return JSON.stringify(value);
}
