import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = parseConfig({});
    expect(config.server.port).toBe(8080);
    expect(config.auth.accessTokenTtl).toBe(5 * 60_000);
    expect(config.auth.refreshTokenTtl).toBe(30 * 86_400_000);
    expect(config.tokens.onLimit).toBe('evict');
    expect(config.server.issuer).toBe('http://localhost:8080');
  });

  it('applies environment overrides and ${VAR} references', () => {
    const config = parseConfig({ clients: [{ id: 'api', secret: '${API_SECRET}' }] }, { PORT: '9000', REDIS_URL: 'redis://r:6379', API_SECRET: 's'.repeat(20) });
    expect(config.server.port).toBe(9000);
    expect(config.store.redisUrl).toBe('redis://r:6379');
    expect(config.clients[0]!.secret).toBe('s'.repeat(20));
  });

  it('reports every problem at once, naming the keys', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({ server: { port: 'eighty', prot: 1 }, tokens: { defaultTtl: 'forever', onLimit: 'drop' }, clients: [{ id: 'x' }] });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    expect(text).toMatch(/server\.port/);
    expect(text).toMatch(/server\.prot: unknown key/);
    expect(text).toMatch(/tokens\.defaultTtl: not a duration/);
    expect(text).toMatch(/tokens\.onLimit/);
    expect(text).toMatch(/clients\.0/);
    expect(error!.problems.length).toBeGreaterThanOrEqual(5);
  });

  it('reads YAML from TESSERA_CONFIG and refuses a missing variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.yaml');
    writeFileSync(file, 'tokens:\n  maxPerUser: 3\n  defaultTtl: 1h\nauth:\n  passwordApiLogin: false\n');
    const config = loadConfig({ TESSERA_CONFIG: file });
    expect(config.tokens.maxPerUser).toBe(3);
    expect(config.tokens.defaultTtl).toBe(3_600_000);
    expect(config.auth.passwordApiLogin).toBe(false);
    writeFileSync(file, 'clients:\n  - id: a\n    secret: ${NOT_SET_ANYWHERE}\n');
    expect(() => loadConfig({ TESSERA_CONFIG: file })).toThrow(/NOT_SET_ANYWHERE is not set/);
    expect(() => loadConfig({ TESSERA_CONFIG: join(dir, 'missing.yaml') })).toThrow(/cannot read/);
    writeFileSync(file, 'server: [unclosed');
    expect(() => loadConfig({ TESSERA_CONFIG: file })).toThrow(/not valid YAML/);
  });
});
