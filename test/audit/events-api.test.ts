/**
 * Every audit event type an API action causes is recorded by that action, through the real HTTP
 * API on a real Redis, with the right actor, target and client IP; and no secret the test
 * created appears in any stored event or log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const IP = '203.0.113.7';

describe('audit events from the REST API', () => {
  let gw: TestGateway;
  const secrets: string[] = [ADMIN_PASSWORD, CLIENT.secret];
  let events: any[] = [];

  const api = (method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    gw.api(method, path, { ...opts, headers: { 'x-forwarded-for': IP, 'user-agent': 'audit-test/1.0', ...opts.headers } });
  const login = async (username: string, password: string) => {
    const res = await api('POST', '/api/v1/login', { body: { username, password } });
    expect(res.status).toBe(200);
    secrets.push(res.body.access_token, res.body.refresh_token);
    return res.body as { access_token: string; refresh_token: string };
  };
  const find = (type: string, where: (e: any) => boolean = () => true) => {
    const found = events.filter((e) => e.type === type && where(e));
    expect(found.length, `no ${type} event`).toBeGreaterThan(0);
    return found[0];
  };

  beforeAll(async () => {
    gw = await startTestGateway({ config: { server: { trustProxy: true }, tokens: { maxPerUser: 2 } } });
    const admin = (await login('admin', ADMIN_PASSWORD)).access_token;
    expect((await api('POST', '/api/v1/login', { body: { username: 'admin', password: 'not-the-password' } })).status).toBe(401);

    secrets.push('bob-first-password', 'bob-second-password');
    expect((await api('POST', '/api/v1/users', { token: admin, body: { username: 'bob', password: 'bob-first-password' } })).status).toBe(201);
    expect((await api('PATCH', '/api/v1/users/bob', { token: admin, body: { display_name: 'Bob B.' } })).status).toBe(200);
    expect((await api('PATCH', '/api/v1/users/bob', { token: admin, body: { password: 'bob-second-password' } })).status).toBe(200);

    const bob = await login('bob', 'bob-second-password');
    const created = [];
    for (const name of ['one', 'two', 'three']) {
      const res = await api('POST', '/api/v1/tokens', { token: bob.access_token, body: { name } });
      expect(res.status).toBe(201);
      secrets.push(res.body.token);
      created.push(res.body);
      gw.clock.advance(1000);
    }
    expect(created[2].evicted).toEqual([created[0].id]);
    expect((await api('PATCH', `/api/v1/tokens/${created[1].id}`, { token: bob.access_token, body: { name: 'renamed' } })).status).toBe(200);
    expect((await api('DELETE', `/api/v1/tokens/${created[1].id}`, { token: created[2].token })).status).toBe(200);

    // Refresh once, then present the old refresh token again: the login is revoked.
    const refreshed = await api('POST', '/api/v1/login/refresh', { body: { refresh_token: bob.refresh_token } });
    expect(refreshed.status).toBe(200);
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
    expect((await api('POST', '/api/v1/login/refresh', { body: { refresh_token: bob.refresh_token } })).status).toBe(400);

    const again = await login('bob', 'bob-second-password');
    expect((await api('POST', '/api/v1/logout', { token: again.access_token })).status).toBe(204);

    expect((await api('DELETE', '/api/v1/users/bob/tokens', { token: admin })).status).toBe(200);
    expect((await api('PATCH', '/api/v1/users/bob', { token: admin, body: { enabled: false } })).status).toBe(200);
    expect((await api('POST', '/api/v1/admin/keys/rotate', { token: admin })).status).toBe(200);
    expect((await api('DELETE', '/api/v1/users/bob', { token: admin })).status).toBe(204);
    // Last: the emergency switch ends the admin's own login too.
    expect((await api('POST', '/api/v1/admin/tokens/revoke-all', { token: admin, body: { confirm: 'revoke-all' } })).status).toBe(200);

    const badClient = await api('POST', '/oauth2/introspect', {
      body: 'token=tsr_x',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT.id}:wrong-secret-0123456789`).toString('base64')}` },
    });
    expect(badClient.status).toBe(401);

    // Five failures from one IP lock the account for that IP; the sixth attempt is throttled.
    for (let i = 0; i < 6; i++) await api('POST', '/api/v1/login', { body: { username: 'carol', password: `guess-number-${i}` } });
    secrets.push(...Array.from({ length: 6 }, (_, i) => `guess-number-${i}`));

    // Client-supplied text that carries a secret (a token pasted as username, in the user agent) is redacted.
    await api('POST', '/api/v1/login', { body: { username: created[2].token, password: 'x-password' }, headers: { 'user-agent': `curl/8.5 ${created[2].token}` } });

    gw.clock.advance(1000);
    const reader = (await login('admin', ADMIN_PASSWORD)).access_token;
    let cursor: string | null = null;
    do {
      const page: any = await api('GET', `/api/v1/audit?limit=200${cursor ? `&before=${cursor}` : ''}`, { token: reader });
      expect(page.status).toBe(200);
      events.push(...page.body.events);
      cursor = page.body.next;
    } while (cursor);
  });
  afterAll(() => gw?.stop());

  it('records each action with its actor, target, IP, user agent and outcome', () => {
    const adminActor = expect.objectContaining({ username: 'admin', credential: 'session' });
    expect(find('config.loaded')).toMatchObject({ actor: { credential: 'system' }, outcome: 'succeeded' });
    expect(find('login.succeeded', (e) => e.target.username === 'admin')).toMatchObject({ ip: IP, userAgent: 'audit-test/1.0', source: 'local', actor: { credential: 'password', username: 'admin' } });
    expect(find('login.failed', (e) => e.target.username === 'admin')).toMatchObject({ outcome: 'failed', reason: 'invalid_credentials', ip: IP });
    expect(find('user.created', (e) => e.target.username === 'bob')).toMatchObject({ actor: adminActor, ip: IP, outcome: 'succeeded' });
    expect(find('user.changed', (e) => e.target.username === 'bob')).toMatchObject({ actor: adminActor, details: { fields: ['displayName'] } });
    expect(find('user.password_reset', (e) => e.target.username === 'bob')).toMatchObject({ actor: adminActor, outcome: 'succeeded' });
    const created = events.filter((e) => e.type === 'token.created' && e.target.username === 'bob');
    expect(created).toHaveLength(3);
    expect(created[0]).toMatchObject({ actor: { username: 'bob', credential: 'session' }, ip: IP, details: { name: 'three' } });
    expect(find('token.evicted')).toMatchObject({ target: { username: 'bob', tokenId: created[2].target.tokenId }, details: { evictedFor: created[0].target.tokenId } });
    expect(find('token.edited')).toMatchObject({ target: { tokenId: created[1].target.tokenId }, details: { fields: ['name'] } });
    // Revoked with another PAT: the actor names the credential used.
    expect(find('token.revoked', (e) => e.target.tokenId === created[1].target.tokenId)).toMatchObject({ actor: { credential: 'pat', tokenId: created[0].target.tokenId, username: 'bob' } });
    expect(find('session.refresh_reused')).toMatchObject({ ip: IP, target: { userId: created[0].target.userId } });
    expect(find('logout')).toMatchObject({ actor: { username: 'bob', credential: 'session' }, ip: IP });
    expect(find('token.revoked_all_of_user')).toMatchObject({ actor: adminActor, target: { username: 'bob' }, details: { tokens: 1 } });
    expect(find('user.disabled', (e) => e.target.username === 'bob')).toMatchObject({ actor: adminActor });
    expect(find('token.revoked_everything')).toMatchObject({ actor: adminActor, details: { users: 1 } });
    expect(find('keys.rotated')).toMatchObject({ actor: adminActor, details: { kid: expect.any(String) } });
    expect(find('user.deleted', (e) => e.target.username === 'bob')).toMatchObject({ actor: adminActor });
    expect(find('client.auth_failed')).toMatchObject({ target: { clientId: CLIENT.id }, ip: IP, outcome: 'failed' });
    expect(find('login.throttled', (e) => e.target.username === 'carol')).toMatchObject({ ip: IP, outcome: 'failed' });
    expect(events.filter((e) => e.type === 'login.failed' && e.target.username === 'carol')).toHaveLength(5);
    // Every action completed, so no event is left "attempted".
    expect(events.filter((e) => e.outcome === 'attempted')).toEqual([]);
  });

  it('writes every stored event as one log line with the same type', () => {
    const logged = new Set(gw.auditLines.map((l) => l.id));
    for (const event of events) expect(logged.has(event.id), event.type).toBe(true);
    for (const line of gw.auditLines) {
      expect(line).toMatchObject({ audit: true, type: expect.any(String), outcome: expect.any(String), eventTime: expect.any(String) });
      expect(line).not.toHaveProperty('time'); // the logger's own key
    }
  });

  it('puts no secret in any event or log line', () => {
    const everything = JSON.stringify(events) + JSON.stringify(gw.auditLines);
    expect(secrets.length).toBeGreaterThan(15);
    for (const secret of secrets) expect(everything.includes(secret), `secret ${secret.slice(0, 6)}… leaked`).toBe(false);
    expect(everything).not.toMatch(/Bearer |Basic /);
    expect(find('login.failed', (e) => e.target.username === '[redacted]')).toMatchObject({ userAgent: 'curl/8.5 [redacted]' });
  });

  it('carries the request id: a well-formed one is kept and echoed, a malformed one replaced', async () => {
    const kept = await api('POST', '/api/v1/login', { body: { username: 'nobody', password: 'whatever-1' }, headers: { 'x-request-id': 'trace-abc.123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc.123');
    const forged = await api('POST', '/api/v1/login', { body: { username: 'nobody', password: 'whatever-2' }, headers: { 'x-request-id': 'bad id\tinjected' } });
    const fresh = forged.headers.get('x-request-id')!;
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    const page = await api('GET', '/api/v1/audit?type=login.failed&user=nobody', { token: admin });
    expect(page.body.events.map((e: any) => e.requestId)).toEqual([fresh, 'trace-abc.123']);
  });
});
