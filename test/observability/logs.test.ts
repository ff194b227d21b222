/**
 * What an operator reads: one JSON access line per request with the route template (never the
 * raw path holding an id), status, duration, client IP, user and token id, request id; warnings
 * for lockouts; and not one secret the test created, anywhere in the captured output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

const USER_PASSWORD = 'alice-password-for-log-test';
const METRICS_TOKEN = 'metrics-token-for-log-test-0123456789';

describe('logs', () => {
  let gw: TestGateway;
  let log: CapturedLog;
  const secrets: string[] = [ADMIN_PASSWORD, USER_PASSWORD, METRICS_TOKEN, CLIENT.secret];

  beforeAll(async () => {
    log = captureLog('info');
    gw = await startTestGateway({ logger: log.logger, config: { metrics: { token: METRICS_TOKEN }, auth: { lockout: { maxFailuresPerAccountAndIp: 1 } } } });
  });
  afterAll(async () => gw?.stop());

  const accessLines = () => log.lines.filter((l) => l.msg === 'request');

  it('writes one access line per request with the route template, user, token and request id', async () => {
    const adminLogin = await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    secrets.push(adminLogin.body.access_token, adminLogin.body.refresh_token);
    const admin = adminLogin.body.access_token as string;
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: USER_PASSWORD } })).status).toBe(201);
    const alice = await gw.login('alice', USER_PASSWORD);
    secrets.push(alice);
    const created = await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'ci', expires_in: '30d' } });
    expect(created.status).toBe(201);
    const pat = created.body.token as string;
    const tokenId = created.body.id as string;
    secrets.push(pat);
    expect(tokenId).toBeTruthy();

    const before = accessLines().length;
    const read = await gw.api('GET', `/api/v1/tokens/${tokenId}`, { token: pat, headers: { 'x-request-id': 'req-from-proxy-42' } });
    expect(read.status).toBe(200);
    expect((await gw.introspect(pat)).body.active).toBe(true);
    expect((await gw.api('GET', '/auth/verify', { token: pat })).status).toBe(200);
    // A token pasted into a URL by mistake must not reach the log through the path either.
    expect((await gw.api('GET', `/api/v1/users/${encodeURIComponent(pat)}/nothing`)).status).toBe(404);
    expect((await gw.api('DELETE', `/api/v1/tokens/${tokenId}`, { token: alice })).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);

    const lines = accessLines().slice(before);
    expect(lines.map((l) => `${l.method} ${l.route} ${l.status}`)).toEqual([
      'GET /api/v1/tokens/:id 200',
      'POST /oauth2/introspect 200',
      'GET /auth/verify 200',
      'GET (unmatched) 404',
      'DELETE /api/v1/tokens/:id 200',
    ]);
    const [get, verify] = [lines[0]!, lines[2]!];
    expect(get).toMatchObject({ level: 'info', service: 'tessera', component: 'http', tokenId, requestId: 'req-from-proxy-42', userId: expect.any(String) });
    expect(get.ip).toMatch(/127\.0\.0\.1|::1/);
    expect(typeof get.ms).toBe('number');
    expect(verify).toMatchObject({ tokenId, userId: get.userId });
    expect(JSON.stringify(lines)).not.toContain(`/api/v1/tokens/${tokenId}`);
  });

  it('warns about lockouts with the account and IP, never the password tried', async () => {
    for (let i = 0; i < 3; i++) await gw.api('POST', '/api/v1/login', { body: { username: 'alice', password: 'guess-number-one' } });
    const lockouts = log.lines.filter((l) => l.component === 'login' && l.level === 'warn');
    expect(lockouts[0]).toMatchObject({ msg: expect.stringContaining('throttled'), username: 'alice', ip: expect.any(String) });
    expect(log.text()).not.toContain('guess-number-one');
  });

  it('lets a client-chosen request id through only when it looks like one, else logs a generated one', async () => {
    const before = accessLines().length;
    await gw.api('GET', '/nope-too', { headers: { 'x-request-id': 'x'.repeat(300) } });
    await gw.api('GET', '/nope', { headers: { 'x-request-id': 'has spaces and "quotes"' } });
    // The access line is written when the response has finished, which may be just after the client has it.
    await expect.poll(() => accessLines().length - before).toBe(2);
    const lines = accessLines().slice(before);
    for (const line of lines) expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('contains no secret the test created, in any line', () => {
    const text = log.text();
    expect(log.lines.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text).not.toContain(secret);
    }
  });
});
