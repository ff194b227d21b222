import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('bad input gets a clear 4xx and changes nothing', () => {
  let gw: TestGateway;
  let admin: string;
  const countTokens = async () => (await gw.api('GET', '/api/v1/tokens?include=revoked,expired', { token: admin })).body.tokens.length;
  const countUsers = async () => (await gw.api('GET', '/api/v1/users', { token: admin })).body.users.length;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test', bodyLimitBytes: 2048 } } });
    admin = await gw.login('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  it('malformed JSON → 400 invalid_request', async () => {
    const before = await countTokens();
    const res = await gw.api('POST', '/api/v1/tokens', { token: admin, body: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the body is not valid JSON' });
    expect(await countTokens()).toBe(before);
  });

  it('non-object JSON and wrong types → 400', async () => {
    const before = await countTokens();
    for (const body of ['[1,2]', '"name"', 'null', '{"name": 42}', '{"name": "x", "scopes": 7}', '{"name":"x","expires_in":"soon"}', '{"name":"x","user":["a"]}']) {
      const res = await gw.api('POST', '/api/v1/tokens', { token: admin, body });
      expect(res.status, body).toBe(400);
      expect(res.body.error_description, body).toBeTruthy();
    }
    const users = await countUsers();
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'x y', password: 'long-enough' } })).status).toBe(400);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'ok', password: 'short' } })).status).toBe(400);
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'ok', password: 'long-enough', role: 'root' } })).status).toBe(400);
    expect((await gw.api('PATCH', '/api/v1/users/admin', { token: admin, body: { enabled: 'no' } })).status).toBe(400);
    expect(await countTokens()).toBe(before);
    expect(await countUsers()).toBe(users);
  });

  it('wrong content type → 415', async () => {
    const before = await countTokens();
    const res = await gw.api('POST', '/api/v1/tokens', { token: admin, body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    const intro = await gw.api('POST', '/oauth2/introspect', { body: { token: 'x' } });
    expect(intro.status).toBe(415);
    expect(await countTokens()).toBe(before);
  });

  it('oversized body → 413 before parsing', async () => {
    const before = await countTokens();
    const res = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'x', description: 'd'.repeat(5000) } });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
    expect(await countTokens()).toBe(before);
  });

  it('a huge header → 431 from the HTTP server', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(gw.url);
      const req = request({ host: url.hostname, port: url.port, path: '/api/v1/me', headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
  });

  it('garbage credentials → 401 or 400, never a crash', async () => {
    expect((await gw.api('GET', '/api/v1/me', { token: 'tsr_garbage' })).status).toBe(401);
    expect((await gw.api('GET', '/api/v1/me', { headers: { authorization: 'Bearer a b c' } })).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/me', { headers: { authorization: 'Digest x' } })).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/me', { headers: { authorization: 'Basic !!!' } })).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/me', { headers: { authorization: `Bearer ${'A'.repeat(8000)}` } })).status).toBe(401);
    const none = await gw.api('GET', '/api/v1/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
  });

  it('unknown ids and routes → 404; wrong method → 405', async () => {
    expect((await gw.api('GET', '/api/v1/tokens/nope', { token: admin })).status).toBe(404);
    expect((await gw.api('DELETE', '/api/v1/tokens/AAAAAAAAAAAAAAAAAAAAAA', { token: admin })).status).toBe(404);
    expect((await gw.api('GET', '/api/v1/users/ghost', { token: admin })).status).toBe(404);
    const unknown = await gw.api('GET', '/nowhere');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    expect((await gw.api('PUT', '/api/v1/tokens', { token: admin, body: {} })).status).toBe(405);
  });

  it('an admin cannot demote, disable or delete themselves', async () => {
    expect((await gw.api('PATCH', '/api/v1/users/admin', { token: admin, body: { role: 'normal' } })).body.error_description).toMatch(/demote or disable themselves/);
    expect((await gw.api('PATCH', '/api/v1/users/admin', { token: admin, body: { enabled: false } })).status).toBe(400);
    expect((await gw.api('DELETE', '/api/v1/users/admin', { token: admin })).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/me', { token: admin })).body).toMatchObject({ role: 'admin', enabled: true });
  });

  it('a duplicate user → 409 and the first one is untouched', async () => {
    expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'dup', password: 'first-password' } })).status).toBe(201);
    const again = await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'dup', password: 'second-password', role: 'admin' } });
    expect(again.status).toBe(409);
    expect((await gw.api('GET', '/api/v1/users/dup', { token: admin })).body.role).toBe('normal');
    expect(await gw.login('dup', 'first-password')).toMatch(/^tsa_/);
  });
});
