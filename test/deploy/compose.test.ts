/**
 * deploy/compose.yaml cannot be started here (no container engine on the test machines), so its
 * structure is checked instead: the services, Redis durability settings, that both gateways share
 * that Redis, that every file it mounts exists, that nginx terminates TLS and asks /auth/verify,
 * and that the gateways' tessera.yaml is a valid configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from './config-text.js';

const DIR = new URL('../../deploy/', import.meta.url);
const compose = parse(readFileSync(new URL('compose.yaml', DIR), 'utf8'), { merge: true });
const nginx = readFileSync(new URL('nginx.conf', DIR), 'utf8');

describe('deploy/compose.yaml', () => {
  it('runs Redis, two gateways, a demo API and nginx, with images or a build for each', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['demo-api', 'gateway-1', 'gateway-2', 'nginx', 'redis']);
    for (const [name, service] of Object.entries<any>(compose.services)) expect(service.image, name).toMatch(/^[a-z0-9./-]+:[\w.-]+$/);
    expect(compose.services['gateway-1'].build.context).toBe('..');
    expect(existsSync(new URL('../Dockerfile', DIR))).toBe(true);
  });

  it('Redis appends every write to a file fsynced each second and never evicts keys', () => {
    const command: string[] = compose.services.redis.command;
    const option = (name: string) => command[command.indexOf(name) + 1];
    expect(command[0]).toBe('redis-server');
    expect([option('--appendonly'), option('--appendfsync'), option('--maxmemory-policy')]).toEqual(['yes', 'everysec', 'noeviction']);
    expect(compose.services.redis.volumes).toContain('redis-data:/data');
  });

  it('both gateways use that Redis and the mounted config, and wait for Redis to be healthy', () => {
    for (const name of ['gateway-1', 'gateway-2']) {
      const gateway = compose.services[name];
      expect(gateway.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(gateway.environment.TESSERA_CONFIG).toBe('/etc/tessera/tessera.yaml');
      expect(gateway.volumes).toContain('./tessera.yaml:/etc/tessera/tessera.yaml:ro');
      expect(gateway.depends_on.redis.condition).toBe('service_healthy');
    }
  });

  it('every file a service mounts from this directory exists (tls/ is made by the documented openssl command)', () => {
    const sources = Object.values<any>(compose.services).flatMap((s) => (s.volumes ?? []) as string[]).map((v) => v.split(':')[0]!).filter((v) => v.startsWith('./'));
    expect(sources.sort()).toEqual(['./nginx.conf', './tessera.yaml', './tessera.yaml', './tls']);
    for (const source of sources.filter((s) => s !== './tls')) expect(existsSync(new URL(source, DIR)), source).toBe(true);
    expect(compose.services.nginx.volumes).toContain('./tls:/etc/nginx/tls:ro');
    expect(readFileSync(new URL('compose.yaml', DIR), 'utf8')).toContain('-keyout tls/tls.key -out tls/tls.crt');
  });

  it('nginx terminates TLS, balances over both gateways and protects the demo API with auth_request to /auth/verify', () => {
    expect(nginx).toMatch(/listen 443 ssl;/);
    expect(nginx).toContain('ssl_certificate /etc/nginx/tls/tls.crt;');
    expect(nginx).toContain('server gateway-1:8080;');
    expect(nginx).toContain('server gateway-2:8080;');
    expect(nginx).toMatch(/location \/demo\/ \{[^}]*auth_request \/_tessera_verify;[^}]*proxy_pass http:\/\/demo-api:80\/;/);
    expect(nginx).toMatch(/location = \/_tessera_verify \{[^}]*internal;[^}]*proxy_pass http:\/\/tessera\/auth\/verify;[^}]*proxy_pass_request_body off;/);
    expect(compose.services.nginx.ports).toEqual(['8443:443']);
  });

  it("the gateways' tessera.yaml is a valid configuration", () => {
    const config = loadConfigText(readFileSync(new URL('tessera.yaml', DIR), 'utf8'), { DEMO_API_SECRET: 'd'.repeat(48), REDIS_URL: 'redis://redis:6379' });
    expect(config.server.trustProxy).toBe(true);
    expect(config.clients.map((c) => c.id)).toEqual(['demo-api']);
  });
});
