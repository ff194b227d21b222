/**
 * Introspection and `/auth/verify` run on their own short stack, outside the AsyncLocalStorage
 * request context (src/http/hot-routes.ts). What the rest of the app gives every request must
 * still hold for them: the request id echoed, access lines and audit events carrying the request
 * id, IP and user agent, the same answers for the spellings and methods left to the routers, and
 * form bodies read the same however they arrive.
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('the hot routes', () => {
  let gw: TestGateway;
  let log: CapturedLog;
  let pat: string;

  beforeAll(async () => {
    log = captureLog('info');
    gw = await startTestGateway({ logger: log.logger });
    pat = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => gw?.stop());

  const accessLine = async (requestId: string) => {
    // Written when the response has finished, which may be just after the client has it.
    await expect.poll(() => log.lines.some((l) => l.msg === 'request' && l.requestId === requestId)).toBe(true);
    return log.lines.find((l) => l.msg === 'request' && l.requestId === requestId)!;
  };

  it('echo a given request id and log it with the route, IP, user and token', async () => {
    const introspected = await gw.api('POST', '/oauth2/introspect', {
      body: new URLSearchParams({ token: pat }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(CLIENT.id, CLIENT.secret), 'x-request-id': 'hot-introspect-1' },
    });
    expect(introspected.status).toBe(200);
    expect(introspected.body).toMatchObject({ active: true, token_use: 'personal_access_token' });
    expect(introspected.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(introspected.headers.get('x-request-id')).toBe('hot-introspect-1');
    expect(introspected.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await accessLine('hot-introspect-1')).toMatchObject({ method: 'POST', route: '/oauth2/introspect', status: 200, ip: expect.stringMatching(/127\.0\.0\.1|::1/) });

    const verified = await gw.api('GET', '/auth/verify', { token: pat, headers: { 'x-request-id': 'hot-verify-1' } });
    expect(verified.status).toBe(200);
    expect(verified.headers.get('x-request-id')).toBe('hot-verify-1');
    const line = await accessLine('hot-verify-1');
    expect(line).toMatchObject({ method: 'GET', route: '/auth/verify', status: 200, userId: expect.any(String), tokenId: introspected.body.jti });
  });

  it('replace a malformed request id by a fresh one, echoed and logged', async () => {
    const res = await gw.api('GET', '/auth/verify', { token: pat, headers: { 'x-request-id': 'bad id "quoted"' } });
    expect(res.status).toBe(200);
    const fresh = res.headers.get('x-request-id')!;
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    expect(await accessLine(fresh)).toMatchObject({ route: '/auth/verify' });
  });

  it('record a failed client authentication with the request id, IP and user agent', async () => {
    const res = await gw.api('POST', '/oauth2/introspect', {
      body: new URLSearchParams({ token: pat }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(CLIENT.id, 'not-the-secret'),
        'x-request-id': 'hot-bad-client-1',
        'user-agent': 'resource-server/2.1',
      },
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    const event = gw.auditLines.find((e) => e.type === 'client.auth_failed' && e.requestId === 'hot-bad-client-1');
    expect(event).toMatchObject({ outcome: 'failed', userAgent: 'resource-server/2.1', ip: expect.stringMatching(/127\.0\.0\.1|::1/), target: { clientId: CLIENT.id } });
    expect((await accessLine('hot-bad-client-1')).status).toBe(401);
  });

  it('leave other methods and spellings to the routers, which answer as before', async () => {
    // Introspection is POST only: a GET is not served by the hot stack (and finds no route).
    const get = await gw.api('GET', '/oauth2/introspect', { headers: { 'x-request-id': 'hot-get-1' } });
    expect(get.status).toBe(404);
    expect(get.headers.get('x-request-id')).toBe('hot-get-1');
    const slash = await gw.api('GET', '/auth/verify/', { token: pat, headers: { 'x-request-id': 'hot-slash-1' } });
    expect(slash.status).toBe(200);
    expect(slash.headers.get('x-tessera-user')).toBe('admin');
    expect(slash.headers.get('x-request-id')).toBe('hot-slash-1');
    const none = await gw.api('GET', '/auth/verify');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
  });

  /** A raw request, so the body can arrive chunked or compressed. */
  const raw = (headers: Record<string, string>, chunks: Buffer[]) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const url = new URL('/oauth2/introspect', gw.url);
      const req = request(url, { method: 'POST', headers: { authorization: basic(CLIENT.id, CLIENT.secret), ...headers } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString()) }));
      });
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });

  it('read a form body the same whether it declares its length, comes chunked or compressed', async () => {
    const form = Buffer.from(new URLSearchParams({ token: pat }).toString());
    const type = { 'content-type': 'application/x-www-form-urlencoded' };
    const declared = await raw({ ...type, 'content-length': String(form.length) }, [form.subarray(0, 10), form.subarray(10)]);
    const chunked = await raw({ ...type, 'transfer-encoding': 'chunked' }, [form.subarray(0, 7), form.subarray(7)]);
    const zipped = gzipSync(form);
    const compressed = await raw({ ...type, 'content-encoding': 'gzip', 'content-length': String(zipped.length) }, [zipped]);
    for (const answer of [declared, chunked, compressed]) expect(answer).toMatchObject({ status: 200, body: { active: true, username: 'admin' } });
    // Still one value per parameter, and a wrong media type is still refused.
    const twice = Buffer.from(`token=${encodeURIComponent(pat)}&token=x`);
    expect(await raw({ ...type, 'content-length': String(twice.length) }, [twice])).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await raw({ 'content-type': 'text/plain', 'content-length': String(form.length) }, [form])).toMatchObject({ status: 415 });
  });
});
