/**
 * "Did you mean" for a mistyped command, as git and kubectl do: the closest known word by edit
 * distance, or the one the typed word starts, offered only when it is close enough to be a typo
 * rather than a different word.
 */
import { distance } from 'fastest-levenshtein';

export function closestWord(typed: string, known: string[]): string | undefined {
  const starts = known.filter((word) => word.startsWith(typed) && typed.length >= 2);
  if (starts.length === 1) return starts[0];
  // One edit for short words, else one per three letters with two at least (a swap of two letters
  // costs two: `lsit`→`list`), three at most: `tokn`→`token`, `revokee`→`revoke`.
  const allowed = typed.length <= 3 ? 1 : Math.min(3, Math.max(2, Math.floor(typed.length / 3)));
  let best: { word: string; d: number } | undefined;
  for (const word of known) {
    const d = distance(typed, word);
    if (d <= allowed && (!best || d < best.d)) best = { word, d };
  }
  return best?.word;
}
