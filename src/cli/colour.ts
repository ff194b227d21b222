/**
 * Colour for people, never for programs: only when the stream is a terminal, never with
 * `NO_COLOR` set to anything but the empty string (no-color.org), never on `TERM=dumb`. Tables
 * measure cells with string-width, which skips these escape codes.
 */
import { inspect } from 'node:util';

export type Paint = (style: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string;

export function colourEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * Node's own SGR codes (util.inspect.colors). Not util.styleText: newer Nodes make it check
 * process.stdout themselves, and the decision is `colourEnabled`'s, per stream.
 */
export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => {
    const [open, close] = inspect.colors[style]!;
    return `\u001b[${open}m${text}\u001b[${close}m`;
  };
}
