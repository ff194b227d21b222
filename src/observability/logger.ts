/**
 * Tessera's one logger: pino, one JSON object per line on stdout, for log shippers (Fluent Bit,
 * Vector, Loki, a SIEM) to take without a parser. Components get a child logger naming them
 * (`{component: "ldap", source: "corp"}`) instead of formatting prefixes into strings.
 *
 * Writes are asynchronous (a buffered SonicBoom flushed off the request path, and synchronously on
 * exit), so an access line per request costs the hot path a JSON.stringify, not a write(2).
 * Pretty output runs pino-pretty in pino's transport worker, so the production (JSON) path never
 * loads it.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { TesseraConfig } from '../config/schema.js';

export type Logger = PinoLogger;

/**
 * Keys that must never reach a log line, whatever a caller passes: defence in depth behind the
 * rule that no secret is logged. Token *ids* are logged as `tokenId`, which is not secret.
 */
const REDACTED = ['password', 'secret', 'token', 'authorization', 'cookie', 'samlResponse', 'SAMLResponse'];
const redactPaths = [...REDACTED, ...REDACTED.map((key) => `*.${key}`), 'req.headers.authorization', 'req.headers.cookie'];

/**
 * For the access log: its lines are flat objects of known fields, so the wildcard paths (which
 * cost a walk of every line, about half of a line's price) have nothing to find there.
 */
export const flatLineRedaction = { redact: { paths: REDACTED, censor: '[redacted]' } };

export interface LoggerOptions {
  /** Where JSON lines go (tests capture them); default stdout, asynchronously. */
  destination?: DestinationStream;
  /** Whether stdout is a terminal, which makes `pretty` the default format. */
  isTTY?: boolean;
}

export function createLogger(config: TesseraConfig['log'], options: LoggerOptions = {}): Logger {
  const base = {
    level: config.level,
    base: { service: 'tessera' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // `level: "warn"` rather than pino's numbers: what people type into a log search.
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  if (options.destination) return pino(base, options.destination);
  const format = config.format ?? ((options.isTTY ?? process.stdout.isTTY) ? 'pretty' : 'json');
  if (format === 'pretty') {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' } } });
  }
  return pino(base, pino.destination({ dest: 1, sync: false }));
}

/** For callers that want no output at all (benchmarks, helper scripts). */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * A warning that may fire once per request during an outage (store unreachable, a lockout
 * storm): the first occurrence is logged at once, later ones within `intervalMs` are counted and
 * reported in one line when the interval ends, so an outage costs a few lines, not thousands.
 */
export class RateLimitedWarning {
  private lastAt = -Infinity;
  private suppressed = 0;
  private lastFields: Record<string, unknown> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
  ) {}

  note(fields: Record<string, unknown> = {}): void {
    const now = Date.now();
    if (now - this.lastAt >= this.intervalMs && !this.timer) {
      this.lastAt = now;
      this.logger.warn({ ...fields, occurrences: 1 }, this.message);
      return;
    }
    this.suppressed++;
    this.lastFields = fields;
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.lastAt + this.intervalMs - now)).unref();
  }

  /** Reports what was counted since the last line (also called at shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.suppressed) return;
    this.lastAt = Date.now();
    this.logger.warn({ ...this.lastFields, occurrences: this.suppressed }, `${this.message} (repeated)`);
    this.suppressed = 0;
  }
}
