/**
 * A set of rotating keys (signing keys, cookie keys) and the phase each key is in at a given
 * instant. Rotation only ever appends a key with its activation time; every phase follows from
 * the times, so gateway instances agree on which key signs without talking to each other, and a
 * rotation is one compare-and-set of the whole set.
 *
 *   next     activateAt in the future: published (JWKS, cookie verification), never used to sign.
 *            Every instance picks the new set up (pub/sub, or the 30 s poll) well before
 *            activateAt (config `oidc.keyActivationDelay`), so by the time any instance signs
 *            with it, every instance already publishes it.
 *   current  the newest key whose activateAt has passed: signs.
 *   retired  superseded by a newer current key: still published, so what it signed verifies,
 *            until `retirement` (config `oidc.keyRetirement`) after its successor activated.
 */
export interface KeyEntry {
  kid: string;
  createdAt: number;
  activateAt: number;
  /** Written by Tessera before key phases existed: leaves the set at this time. */
  retireAt?: number;
}

export interface KeyPhases<E extends KeyEntry> {
  current: E;
  next: E[];
  retired: E[];
}

const byActivation = (a: KeyEntry, b: KeyEntry): number => a.activateAt - b.activateAt || a.createdAt - b.createdAt || a.kid.localeCompare(b.kid);

/** When each key leaves the set; undefined while it has no active successor. */
function retirements<E extends KeyEntry>(sorted: E[], now: number, retirementMs: number): (number | undefined)[] {
  return sorted.map((entry, i) => {
    if (entry.retireAt !== undefined) return entry.retireAt;
    const successor = sorted[i + 1];
    return successor && successor.activateAt <= now ? successor.activateAt + retirementMs : undefined;
  });
}

/** The keys still in the set at `now`: retired keys past their retirement are dropped. */
export function keptKeys<E extends KeyEntry>(entries: E[], now: number, retirementMs: number): E[] {
  const sorted = [...entries].sort(byActivation);
  const leaves = retirements(sorted, now, retirementMs);
  const kept = sorted.filter((_, i) => leaves[i] === undefined || leaves[i]! > now);
  // Never drop the last usable key, even if a legacy retireAt says so.
  return kept.length ? kept : sorted.slice(-1);
}

function lastIndex<E>(items: E[], test: (item: E) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return i;
  return -1;
}

/** Phases at `now`. The set must not be empty. */
export function keyPhases<E extends KeyEntry>(entries: E[], now: number, retirementMs: number): KeyPhases<E> {
  const kept = keptKeys(entries, now, retirementMs);
  if (!kept.length) throw new RangeError('empty key set');
  let index = lastIndex(kept, (k) => k.activateAt <= now && k.retireAt === undefined);
  if (index < 0) index = lastIndex(kept, (k) => k.activateAt <= now);
  // Only when every key is still in the future (a clock far behind the rotating one): the oldest.
  if (index < 0) index = 0;
  return { current: kept[index]!, next: kept.slice(index + 1), retired: kept.slice(0, index).reverse() };
}

/** The first instant after `now` when a phase changes (an activation or a retirement), if any. */
export function nextPhaseChange(entries: KeyEntry[], now: number, retirementMs: number): number | undefined {
  const sorted = [...entries].sort(byActivation);
  const times = [...sorted.map((k) => k.activateAt), ...retirements(sorted, Number.MAX_SAFE_INTEGER, retirementMs).filter((t): t is number => t !== undefined)];
  const future = times.filter((t) => t > now);
  return future.length ? Math.min(...future) : undefined;
}

/** In the order a consumer wants them: the signing key first, then the ones only verified with. */
export const publishedOrder = <E extends KeyEntry>({ current, next, retired }: KeyPhases<E>): E[] => [current, ...next, ...retired];
