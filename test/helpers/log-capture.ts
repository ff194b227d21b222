/**
 * A real pino logger (the one `createLogger` builds, same redaction and format) whose JSON lines
 * are kept in memory, so tests can read what an operator would see and search it for secrets.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: Record<string, any>[];
  /** Every line written so far, as written. */
  text(): string;
}

export function captureLog(level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLog {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level }, { destination });
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line));
    },
    text: () => raw.join('\n'),
  };
}

/** A real logger that keeps each line's message (`msg`) in `lines`, for tests that look for a message. */
export function messagesInto(lines: string[]): Logger {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(String(JSON.parse(line).msg ?? ''));
      done();
    },
  });
  return createLogger({ level: 'debug' }, { destination });
}
