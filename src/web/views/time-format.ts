/**
 * Instants as people read them on the pages. The server does not know the reader's time zone,
 * so every instant says UTC; the `<time>` element carries the exact value for machines.
 */
import { html, type SafeHtml } from '../html.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `2026-11-23 04:29 UTC` */
export function formatInstant(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `in 3 days`, `5 hours ago`, `just now`. */
export function relativeTo(ms: number, now: number): string {
  const delta = ms - now;
  const size = Math.abs(delta);
  if (size < MINUTE) return 'just now';
  const [amount, unit] =
    size >= DAY ? [Math.round(size / DAY), 'day'] : size >= HOUR ? [Math.round(size / HOUR), 'hour'] : [Math.round(size / MINUTE), 'minute'];
  const phrase = `${amount} ${unit}${amount === 1 ? '' : 's'}`;
  return delta > 0 ? `in ${phrase}` : `${phrase} ago`;
}

/** A length of time in words: `7 days`, `1 day`, `12 hours`, `90 minutes`. */
export function formatSpan(ms: number): string {
  const [amount, unit] = ms % DAY === 0 ? [ms / DAY, 'day'] : ms % HOUR === 0 ? [ms / HOUR, 'hour'] : [Math.round(ms / MINUTE), 'minute'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

/** A `<time>` element with the instant and, optionally, how far it is from now. */
export function instant(ms: number | undefined, now?: number): SafeHtml | string {
  if (ms === undefined) return '—';
  const when = html`<time datetime="${new Date(ms).toISOString()}">${formatInstant(ms)}</time>`;
  return now === undefined ? when : html`${when} <span class="hint">(${relativeTo(ms, now)})</span>`;
}

/** The compact form for table cells: the day, with the exact time as a tooltip. */
export function day(ms: number | undefined, now?: number): SafeHtml | string {
  if (ms === undefined) return '—';
  const when = html`<time datetime="${new Date(ms).toISOString()}" title="${formatInstant(ms)}">${new Date(ms).toISOString().slice(0, 10)}</time>`;
  return now === undefined ? when : html`${when}<br><span class="hint">${relativeTo(ms, now)}</span>`;
}
