/**
 * Reads the YAML config file (TESSERA_CONFIG), substitutes `${ENV_VAR}` references, applies the
 * environment overrides (PORT, REDIS_URL, TESSERA_ISSUER, LOG_LEVEL, LOG_FORMAT) and validates everything against
 * `configSchema`. All problems are reported together, each naming its key.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type TesseraConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Replaces `${NAME}` in every string with the environment variable; a missing one is an error. */
function substituteEnv(value: unknown, env: Env, path: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) problems.push(`${path}: environment variable ${name} is not set`);
      return found ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, `${path}[${i}]`, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, path ? `${path}.${key}` : key, problems)]),
    );
  }
  return value;
}

function setIn(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Validates a plain object (already read from YAML or built by a test). */
export function parseConfig(raw: unknown, env: Env = {}): TesseraConfig {
  const problems: string[] = [];
  const input = (substituteEnv(raw ?? {}, env, '', problems) ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) throw new ConfigError(['the configuration must be a YAML mapping']);

  if (env.PORT !== undefined) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port)) problems.push(`PORT: not an integer: ${env.PORT}`);
    else setIn(input, ['server', 'port'], port);
  }
  if (env.REDIS_URL) setIn(input, ['store', 'redisUrl'], env.REDIS_URL);
  if (env.TESSERA_ISSUER) setIn(input, ['server', 'issuer'], env.TESSERA_ISSUER);
  if (env.LOG_LEVEL) setIn(input, ['log', 'level'], env.LOG_LEVEL);
  if (env.LOG_FORMAT) setIn(input, ['log', 'format'], env.LOG_FORMAT);

  const result = configSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : [];
      const where = issue.path.join('.') || '(top level)';
      problems.push(keys.length ? `${keys.join(', ')}: unknown key` : `${where}: ${issue.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const config = result.data!;
  config.server.issuer ??= `http://localhost:${config.server.port}`;
  config.server.issuer = config.server.issuer.replace(/\/+$/, '');
  return config;
}

export function loadConfig(env: Env = process.env): TesseraConfig {
  const file = env.TESSERA_CONFIG;
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`TESSERA_CONFIG: cannot read ${file}: ${(err as Error).message}`]);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message}`]);
    }
  }
  return parseConfig(raw, env);
}
