/**
 * The logger's own guarantees: JSON lines with a `level` word, keys that name secrets redacted
 * whatever a caller passes (also through the access log's cheaper redaction), and the level and
 * format taken from config or LOG_LEVEL / LOG_FORMAT, with bad values refused at start-up.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { flatLineRedaction } from '../../src/observability/logger.js';
import { captureLog } from '../helpers/log-capture.js';

describe('logger', () => {
  it('writes JSON lines and redacts keys that name secrets, top-level and one level down', () => {
    const log = captureLog('info');
    log.logger.child({ component: 'test' }).warn({ password: 'p-1', token: 't-1', client: { secret: 's-1' }, req: { headers: { authorization: 'Bearer a-1' } }, user: 'alice' }, 'something');
    const [line] = log.lines;
    expect(line).toMatchObject({ level: 'warn', service: 'tessera', component: 'test', user: 'alice', msg: 'something', password: '[redacted]', token: '[redacted]' });
    expect(line!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    for (const secret of ['p-1', 't-1', 's-1', 'a-1']) expect(log.text()).not.toContain(secret);
  });

  it('keeps top-level redaction on the access log child', () => {
    const log = captureLog('info');
    log.logger.child({ component: 'http' }).child({}, flatLineRedaction).info({ route: '/x', token: 'leak-me', authorization: 'Basic leak-too' }, 'request');
    expect(log.lines[0]).toMatchObject({ component: 'http', route: '/x', token: '[redacted]', authorization: '[redacted]' });
    expect(log.text()).not.toContain('leak');
  });

  it('writes nothing below the configured level', () => {
    const log = captureLog('warn');
    log.logger.info('hidden');
    log.logger.debug('hidden too');
    log.logger.error('shown');
    expect(log.lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('takes level and format from config, LOG_LEVEL and LOG_FORMAT, and refuses unknown ones', () => {
    expect(parseConfig({}).log).toEqual({ level: 'info' });
    expect(parseConfig({ log: { level: 'warn', format: 'json' } }).log).toEqual({ level: 'warn', format: 'json' });
    expect(parseConfig({ log: { level: 'warn' } }, { LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' }).log).toEqual({ level: 'debug', format: 'pretty' });
    expect(() => parseConfig({}, { LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => parseConfig({}, { LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' })).toThrow(/log\.level[\s\S]*log\.format/);
  });

  it('refuses a shutdown grace period that is negative or not a number', () => {
    expect(parseConfig({}).server.shutdownGraceSeconds).toBe(10);
    expect(() => parseConfig({ server: { shutdownGraceSeconds: -1 } })).toThrow(/server\.shutdownGraceSeconds/);
    expect(() => parseConfig({ server: { shutdownGraceSeconds: '10s' } })).toThrow(/server\.shutdownGraceSeconds/);
  });
});
