/**
 * Command-line parsing on `node:util` parseArgs. Each command declares its options once, with
 * help text; the same declaration drives strict parsing and `--help`. Anything wrong with the
 * command line is a UsageError (exit 2) carrying the command's usage.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { UsageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder for the value in help, e.g. `URL`. */
  value?: string;
  help: string;
}

export type Options = Record<string, OptionSpec>;

export interface CommandSpec {
  /** The words after `tessera`, e.g. `['token', 'create']`. */
  path: string[];
  summary: string;
  /** Positional arguments as shown in help, e.g. `ID...`. */
  args?: string;
  /** How many positional arguments: [min, max]. None when absent. */
  arity?: [number, number];
  options?: Options;
  /** Lines shown after the options: examples, notes. */
  notes?: string[];
}

/** Accepted by every command, anywhere on the line. */
export const GLOBAL_OPTIONS: Options = {
  server: { type: 'string', value: 'URL', help: 'gateway URL (default: $TESSERA_SERVER, then the last server logged in to)' },
  json: { type: 'boolean', help: 'print JSON instead of text' },
  debug: { type: 'boolean', help: 'show HTTP requests and stack traces' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

type Value = string | boolean | string[] | undefined;

export class ParsedArgs {
  constructor(
    readonly values: Record<string, Value>,
    readonly positionals: string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  strings(name: string): string[] {
    const value = this.values[name];
    return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  }
}

/** parseArgs' messages suggest `--` tricks; ours name the flag and stop there. */
function readable(err: { code?: string; message: string }): string {
  const flag = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return err.message.includes('does not take') ? `${flag} does not take a value` : `${flag} needs a value`;
    default:
      return err.message.split('\n')[0]!;
  }
}

export function parseCommand(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options = { ...GLOBAL_OPTIONS, ...spec.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) }]),
      ),
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (!code?.startsWith('ERR_PARSE_ARGS_')) throw err;
    throw new UsageError(readable(err as Error & { code?: string }), usageOf(spec));
  }
  const args = new ParsedArgs(parsed.values as Record<string, Value>, parsed.positionals);
  if (args.flag('help')) return args;
  const [min, max] = spec.arity ?? [0, 0];
  if (args.positionals.length < min) throw new UsageError(`missing ${spec.args ?? 'argument'}`, usageOf(spec));
  if (args.positionals.length > max) throw new UsageError(`unexpected argument ${args.positionals[max]}`, usageOf(spec));
  return args;
}

/** `  --name VALUE  help` lines, aligned. */
export function flagLines(options: Options): string[] {
  const left = Object.entries(options).map(([name, o]) => `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  return Object.values(options).map((o, i) => `  ${left[i]!.padEnd(width)}  ${o.help}${o.multiple ? ' (repeatable)' : ''}`);
}

export function usageOf(spec: CommandSpec): string {
  const lines = [`Usage: tessera ${spec.path.join(' ')}${spec.args ? ` ${spec.args}` : ''} [flags]`, '', spec.summary];
  if (spec.options && Object.keys(spec.options).length) lines.push('', 'Flags:', ...flagLines(spec.options));
  lines.push('', 'Global flags:', ...flagLines(GLOBAL_OPTIONS));
  if (spec.notes?.length) lines.push('', ...spec.notes);
  return lines.join('\n');
}

/**
 * The command words (`token`, `create`) out of a command line whose global flags may come
 * first: `tessera --server URL token list`. Returns them and the rest, in order.
 */
export function splitCommandWords(argv: string[], depth: (words: string[]) => number): { words: string[]; rest: string[] } {
  const { tokens } = parseArgs({
    args: argv,
    options: { server: { type: 'string' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const taken = new Set<number>();
  const words: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') break;
    if (token.kind !== 'positional') continue;
    if (words.length >= depth(words)) break;
    words.push(token.value);
    taken.add(token.index);
  }
  return { words, rest: argv.filter((_, i) => !taken.has(i)) };
}

/** `--ttl 30d` and friends, in whole seconds (what the API takes). */
export function durationFlag(value: string | undefined, flag: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000) throw new UsageError(`--${flag}: not a duration: ${value} (use e.g. 90s, 15m, 1h, 30d)`, usage);
  return Math.round(ms / 1000);
}

/**
 * The one user a command is about, given either way: positionally (`tessera session list alice`,
 * as `tessera user show alice`) or with `--user alice`, which keeps working. Both at once only
 * when they name the same user.
 */
export function userSubject(args: ParsedArgs, spec: CommandSpec, positional: string | undefined = args.positionals[0]): string | undefined {
  const flag = args.string('user');
  if (flag !== undefined && positional !== undefined && flag !== positional) throw new UsageError(`give the user once: ${positional} or --user ${flag}`, usageOf(spec));
  return positional ?? flag;
}
