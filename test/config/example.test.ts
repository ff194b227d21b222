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
