/**
 * How the CLI prints: aligned tables (kubectl style, upper-case headers, two spaces between
 * columns), `Key: value` blocks for describe, and `--json` exactly as the API answered, so
 * scripts see the same field names as the REST docs. Widths are terminal columns (string-width):
 * a CJK character or an emoji takes two, a colour code none, so columns stay aligned for any name.
 */
import stringWidth from 'string-width';

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** `text` followed by spaces up to `width` terminal columns. */
const padColumns = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - stringWidth(text)));

export function table(headers: string[], rows: (string | null)[][]): string {
  if (!rows.length) return '';
  const all = [headers, ...rows].map((row) => row.map((cell) => cell ?? ''));
  const widths = headers.map((_, i) => Math.max(...all.map((row) => stringWidth(row[i] ?? ''))));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : padColumns(cell, widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `Key:   value` lines with the values aligned; empty values (and null) are left out, never printed. */
export function fields(pairs: [string, string | null | undefined][]): string {
  const shown = pairs.filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== null && pair[1] !== '');
  const width = Math.max(...shown.map(([key]) => key.length + 1));
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${value}`).join('\n');
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `in 30d`, `3h ago`, `never`: the largest unit that fits, rounded, as kubectl's AGE column. */
export function relative(iso: string | null | undefined, now: number, never = 'never'): string {
  if (!iso) return never;
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const [unit, size] = UNITS.find(([, size]) => abs >= size) ?? ['s', 1000];
  const amount = `${Math.round(abs / size)}${unit}`;
  return diff >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** `2025-07-01 12:00:00 UTC (in 30d)`: exact and readable. */
export function moment(iso: string | null | undefined, now: number, never = 'never'): string {
  if (!iso) return never;
  return `${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${relative(iso, now)})`;
}

/** `1 token`, `2 tokens`. */
export const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
