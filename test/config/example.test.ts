import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

describe('config/tessera.example.yaml', () => {
  it('is valid', () => {
    const config = loadConfig({
      TESSERA_CONFIG: new URL('../../config/tessera.example.yaml', import.meta.url).pathname,
      REDIS_URL: 'redis://127.0.0.1:6379',
      MODELS_API_SECRET: 'm'.repeat(32),
      GRAFANA_CLIENT_SECRET: 'g'.repeat(32),
    });
    expect(config.clients.map((c) => c.id)).toEqual(['models-api', 'grafana']);
    expect(config.server.issuer).toBe('https://id.example.org');
  });
});

describe('documented configuration examples', () => {
  it('every YAML block in the README and docs/ is a valid configuration', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { parseConfig } = await import('../../src/config/load.js');
    const files = ['README.md', 'docs/ldap.md', 'docs/saml-okta.md', 'docs/workload-identity.md', 'docs/signals.md', 'docs/oidc-upstream.md'];
    const blocks = files.flatMap((file) => {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    });
    // Every ${NAME} the examples reference is "set"; the override variables are not.
    const overrides = new Set(['PORT', 'REDIS_URL', 'TESSERA_ISSUER', 'TESSERA_CONFIG', 'LOG_LEVEL', 'LOG_FORMAT']);
    const env = new Proxy({} as Record<string, string>, {
      get: (_t, name) => (typeof name === 'string' && !overrides.has(name) ? `env-${name}-0123456789abcdef` : undefined),
    });
    // Fragments (a few keys of one source, shown in prose) are not whole configurations.
    const { configSchema } = await import('../../src/config/schema.js');
    const sections = new Set(Object.keys(configSchema.shape));
    const whole = blocks.map((b) => parse(b)).filter((doc) => doc && typeof doc === 'object' && Object.keys(doc).every((k) => sections.has(k)));
    expect(whole.length).toBeGreaterThanOrEqual(5);
    for (const doc of whole) expect(() => parseConfig(doc, env), JSON.stringify(doc)).not.toThrow();
  });
});
