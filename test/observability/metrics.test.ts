/**
 * `GET /metrics` through the real app: closed by default, opened by `metrics.token` (bearer) on
 * the main listener or by `metrics.listen` on a second one; the named series exist and move
 * when requests, sign-ins, introspections, forward-auth checks and store failures happen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { captureLog } from '../helpers/log-capture.js';
import { sample } from './prometheus.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

describe('metrics', () => {
  let gw: TestGateway;
  let listenUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    listenUrl = `http://127.0.0.1:${port}/metrics`;
    gw = await startTestGateway({
      config: {
        metrics: { token: METRICS_TOKEN, listen: `127.0.0.1:${port}` },
        auth: { lockout: { maxFailuresPerAccountAndIp: 2 } },
        clients: [{ ...CLIENT, resourceServer: true, grantTypes: ['client_credentials'], allowedResources: ['https://api.example'], allowedScopes: ['read'] }],
        resources: [{ indicator: 'https://api.example', scopes: ['read'] }],
      },
    });
  });
  afterAll(async () => gw?.stop());

  const scrape = async () => {
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('on the main listener answers only the metrics token', async () => {
    const none = await fetch(`${gw.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    expect(await wrong.text()).not.toContain('tessera_');
    expect(await scrape()).toContain('# TYPE tessera_http_requests_total counter');
  });

  it('serves the separate listener without auth, and nothing else there', async () => {
    const res = await fetch(listenUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('tessera_http_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect((await fetch(listenUrl.replace('/metrics', '/healthz'))).status).toBe(404);
  });

  it('exposes every named series, and they move with requests', async () => {
    const before = await scrape();
    const pat = await gw.personalToken('admin', ADMIN_PASSWORD);
    expect((await gw.introspect(pat)).body.active).toBe(true);
    expect((await gw.introspect('tsr_not-a-real-token')).body.active).toBe(false);
    expect((await gw.api('GET', '/auth/verify', { token: pat })).status).toBe(200);
    expect((await gw.api('GET', '/auth/verify')).status).toBe(401);
    const tokenId = (await gw.introspect(pat)).body.jti as string;
    expect((await gw.api('GET', `/api/v1/tokens/${tokenId}`, { token: pat })).status).toBe(200);
    // Two wrong passwords for one account from one IP, then the lockout.
    for (let i = 0; i < 2; i++) expect((await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: 'wrong-password' } })).status).toBe(401);
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: 'wrong-password' } })).status).toBe(429);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('tessera_http_requests_total', { method: 'POST', route: '/oauth2/introspect', status: '200' })).toBe(3);
    expect(delta('tessera_http_request_duration_seconds_count', { method: 'POST', route: '/oauth2/introspect', status: '200' })).toBe(3);
    // The template, never the id.
    expect(delta('tessera_http_requests_total', { method: 'GET', route: '/api/v1/tokens/:id', status: '200' })).toBe(1);
    expect(after).not.toContain(tokenId);
    expect(delta('tessera_introspections_total', { kind: 'pat', result: 'active' })).toBe(2);
    expect(delta('tessera_introspections_total', { kind: 'unknown', result: 'inactive' })).toBe(1);
    expect(delta('tessera_forward_auth_checks_total', { kind: 'pat', result: 'active' })).toBe(1);
    expect(delta('tessera_forward_auth_checks_total', { kind: 'none', result: 'inactive' })).toBe(1);
    expect(delta('tessera_logins_total', { source: 'local', outcome: 'succeeded' })).toBe(1);
    expect(delta('tessera_logins_total', { outcome: 'failed' })).toBe(2);
    expect(delta('tessera_logins_total', { outcome: 'throttled' })).toBe(1);
    expect(delta('tessera_login_throttled_total')).toBe(1);
    expect(delta('tessera_store_command_duration_seconds_count', { command: 'useToken' })).toBeGreaterThanOrEqual(3);
    expect(after).toContain('# TYPE tessera_store_errors_total counter');
    expect(sample(after, 'tessera_ready')).toBe(1);
    expect(after).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts introspections of the OpenID Provider\'s own tokens as kind "provider"', async () => {
    const before = await scrape();
    const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
    const issued = await gw.api('POST', '/oauth2/token', {
      body: 'grant_type=client_credentials&resource=https%3A%2F%2Fapi.example&scope=read',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(issued.status).toBe(200);
    expect((await gw.introspect(issued.body.access_token)).body.active).toBe(true);
    expect((await gw.introspect('some-opaque-provider-token-that-does-not-exist')).body.active).toBe(false);
    const after = await scrape();
    const delta = (labels: Record<string, string>) => sample(after, 'tessera_introspections_total', labels) - sample(before, 'tessera_introspections_total', labels);
    expect(delta({ kind: 'provider', result: 'active' })).toBe(1);
    expect(delta({ kind: 'provider', result: 'inactive' })).toBe(1);
    expect(after).not.toContain(issued.body.access_token);
  });

  it('has every series the Grafana dashboard queries', async () => {
    const { readFileSync } = await import('node:fs');
    const dashboard = readFileSync(new URL('../../deploy/grafana/tessera.json', import.meta.url), 'utf8');
    const names = new Set([...dashboard.matchAll(/\b((?:tessera|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!));
    expect(names.size).toBeGreaterThan(10);
    const text = await scrape();
    // Declared (# TYPE), whether or not it has samples yet (no LDAP source here, no store error).
    for (const name of names) expect(text, name).toContain(`# TYPE ${name.replace(/_(bucket|count|sum)$/, '')} `);
  });
});

describe('metrics closed by default', () => {
  it('answers 404 on the main listener without metrics.token', async () => {
    const gw = await startTestGateway({ store: 'memory' });
    try {
      const res = await gw.api('GET', '/metrics');
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('tessera_');
    } finally {
      await gw.stop();
    }
  });

  it('refuses a metrics token shorter than 16 characters and a listen address without a port', async () => {
    await expect(startTestGateway({ store: 'memory', config: { metrics: { token: 'short' } } })).rejects.toThrow(/metrics\.token/);
    await expect(startTestGateway({ store: 'memory', config: { metrics: { listen: 'localhost' } } })).rejects.toThrow(/metrics\.listen: must be host:port/);
  });
});

describe('store failures', () => {
  it('are counted per operation and logged once per interval, not once per request', async () => {
    const redis = await startRedisServer();
    const log = captureLog('info');
    const gw = await startTestGateway({ redisUrl: redis.url, logger: log.logger, config: { metrics: { token: METRICS_TOKEN } } });
    try {
      const pat = await gw.personalToken('admin', ADMIN_PASSWORD);
      await redis.stop();
      for (let i = 0; i < 5; i++) expect((await gw.introspect(pat)).status).toBe(503);
      const text = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      expect(sample(text, 'tessera_store_errors_total', { command: 'useToken' })).toBe(5);
      expect(sample(text, 'tessera_introspections_total', { kind: 'pat', result: 'error' })).toBe(5);
      const warnings = log.lines.filter((l) => l.component === 'store' && l.level === 'warn' && String(l.msg).startsWith('store unavailable'));
      // One line, then one per 10 s with a count: far fewer lines than failed requests.
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThan(5);
      expect(warnings[0]).toMatchObject({ msg: expect.stringContaining('store unavailable'), command: 'useToken', occurrences: 1 });
      expect(log.text()).not.toContain(pat);
    } finally {
      await gw.close().catch(() => undefined);
      await redis.stop();
    }
  });
});
