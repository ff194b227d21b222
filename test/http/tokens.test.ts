import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const DAY = 86_400_000;

describe('token-creator permission (creators: admins only)', () => {
  let gw: TestGateway;
  let admin: string;
  let nocreate: string;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 5, maxTtl: '90d', creators: { roles: ['admin'], groups: [] } } } });
    admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'nocreate', password: 'nocreate-password' } });
    nocreate = await gw.login('nocreate', 'nocreate-password');
  });
  afterAll(() => gw?.stop());

  it('a user without the token-creator permission cannot create tokens; an admin can create one for them', async () => {
    const own = await gw.api('POST', '/api/v1/tokens', { token: nocreate, body: { name: 'mine' } });
    expect(own.status).toBe(403);
    const forThem = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'issued by admin', user: 'nocreate' } });
    expect(forThem.status).toBe(201);
    expect(forThem.body).toMatchObject({ user: 'nocreate', created_by: 'admin', status: 'active' });
    expect((await gw.introspect(forThem.body.token)).body.username).toBe('nocreate');
    // The user sees it in their list but never its secret.
    const list = await gw.api('GET', '/api/v1/tokens', { token: nocreate });
    expect(list.body.tokens.map((t: any) => t.id)).toEqual([forThem.body.id]);
    expect(JSON.stringify(list.body)).not.toContain(forThem.body.token);
  });
});

describe('personal access tokens: rules', () => {
  let gw: TestGateway;
  let admin: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 8, maxTtl: '400d', defaultTtl: '30d' } } });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob', 'erin', 'frank', 'gina']) {
      await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } });
    }
    alice = await gw.personalToken('alice', 'alice-password');
    bob = await gw.personalToken('bob', 'bob-password');
  });
  afterAll(() => gw?.stop());

  it('creates a token, shows the secret once, and describes it without the secret', async () => {
    const created = await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'ci', description: 'nightly build', scopes: 'read resource:models:rw' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body.token).toMatch(/^tsr_/);
    expect(created.body).toMatchObject({ name: 'ci', description: 'nightly build', user: 'alice', expiration: 'hard', scopes: ['read', 'resource:models:rw'], status: 'active', created_by: 'alice', last_used_at: null });
    expect(Date.parse(created.body.expires_at) - gw.clock.now).toBe(30 * DAY);

    const described = await gw.api('GET', `/api/v1/tokens/${created.body.id}`, { token: alice });
    expect(described.status).toBe(200);
    expect(described.body.token).toBeUndefined();
    expect(JSON.stringify(described.body)).not.toContain(created.body.token);

    // The token itself authenticates as alice, by Bearer and as the Basic password.
    const me = await gw.api('GET', '/api/v1/me', { token: created.body.token });
    expect(me.body).toMatchObject({ username: 'alice', authenticated_with: 'personal_access_token', token_id: created.body.id });
    const basic = Buffer.from(`alice:${created.body.token}`).toString('base64');
    expect((await gw.api('GET', '/api/v1/me', { headers: { authorization: `Basic ${basic}` } })).body.username).toBe('alice');
    const wrongUser = Buffer.from(`bob:${created.body.token}`).toString('base64');
    expect((await gw.api('GET', '/api/v1/me', { headers: { authorization: `Basic ${wrongUser}` } })).status).toBe(401);

    // Last use is recorded with time and client IP.
    const after = await gw.api('GET', `/api/v1/tokens/${created.body.id}`, { token: alice });
    expect(after.body.last_used_at).toBe(new Date(gw.clock.now).toISOString());
    expect(after.body.last_used_ip).toMatch(/127\.0\.0\.1/);
  });

  it('describes several ids at once, edits name and description only', async () => {
    const a = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'a' } })).body;
    const b = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'b' } })).body;
    const both = await gw.api('GET', `/api/v1/tokens?ids=${a.id},${b.id}`, { token: alice });
    expect(both.body.tokens.map((t: any) => t.name)).toEqual(['a', 'b']);
    const edited = await gw.api('PATCH', `/api/v1/tokens/${a.id}`, { token: alice, body: { description: 'new words' } });
    expect(edited.body).toMatchObject({ name: 'a', description: 'new words' });
    const bad = await gw.api('PATCH', `/api/v1/tokens/${a.id}`, { token: alice, body: { expires_at: '2100-01-01T00:00:00Z' } });
    expect(bad.status).toBe(400);
    await gw.api('DELETE', `/api/v1/tokens/${a.id}`, { token: alice });
    await gw.api('DELETE', `/api/v1/tokens/${b.id}`, { token: alice });
  });

  it('authorization matrix: a normal user acts only on their own tokens; an admin on anyone\'s', async () => {
    const bobs = (await gw.api('POST', '/api/v1/tokens', { token: bob, body: { name: 'bob token' } })).body;
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'x', user: 'bob' } })).status).toBe(403);
    expect((await gw.api('GET', `/api/v1/tokens/${bobs.id}`, { token: alice })).status).toBe(404);
    expect((await gw.api('PATCH', `/api/v1/tokens/${bobs.id}`, { token: alice, body: { name: 'mine now' } })).status).toBe(404);
    expect((await gw.api('DELETE', `/api/v1/tokens/${bobs.id}`, { token: alice })).status).toBe(404);
    expect((await gw.api('GET', '/api/v1/tokens?user=bob', { token: alice })).status).toBe(403);
    expect((await gw.api('GET', '/api/v1/tokens?all=true', { token: alice })).status).toBe(403);
    expect((await gw.api('DELETE', '/api/v1/users/bob/tokens', { token: alice })).status).toBe(403);
    expect((await gw.api('GET', '/api/v1/users', { token: alice })).status).toBe(403);
    expect((await gw.api('POST', '/api/v1/users', { token: alice, body: { username: 'mallory', password: 'mallory-pass' } })).status).toBe(403);
    expect((await gw.api('POST', '/api/v1/admin/tokens/revoke-all', { token: alice, body: { confirm: 'revoke-all' } })).status).toBe(403);
    expect((await gw.introspect(bobs.token)).body.active).toBe(true);

    expect((await gw.api('GET', `/api/v1/tokens/${bobs.id}`, { token: admin })).body.user).toBe('bob');
    expect((await gw.api('GET', '/api/v1/tokens?user=bob', { token: admin })).body.tokens.map((t: any) => t.id)).toContain(bobs.id);
    const all = await gw.api('GET', '/api/v1/tokens?all=true', { token: admin });
    expect(all.body.tokens.some((t: any) => t.id === bobs.id)).toBe(true);
    const revoked = await gw.api('DELETE', `/api/v1/tokens/${bobs.id}`, { token: admin });
    expect(revoked.body).toMatchObject({ status: 'revoked', revoked_by: 'admin' });
    expect((await gw.introspect(bobs.token)).body).toEqual({ active: false });
  });

  it('scoped tokens cannot mint broader tokens, nor outlive themselves, nor reach admin endpoints', async () => {
    const scoped = (await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'scoped admin', scopes: ['resource:data:rw'], expires_in: 3600 } })).body;
    const narrower = await gw.api('POST', '/api/v1/tokens', { token: scoped.token, body: { name: 'read only', scopes: 'resource:data:r', expires_in: 600 } });
    expect(narrower.status).toBe(201);
    const broader = await gw.api('POST', '/api/v1/tokens', { token: scoped.token, body: { name: 'more', scopes: 'resource:other:r', expires_in: 600 } });
    expect(broader.status).toBe(400);
    expect(broader.body.error).toBe('invalid_scope');
    const full = await gw.api('POST', '/api/v1/tokens', { token: scoped.token, body: { name: 'all', expires_in: 600 } });
    expect(full.status).toBe(400);
    const longer = await gw.api('POST', '/api/v1/tokens', { token: scoped.token, body: { name: 'long', scopes: 'resource:data:r', expires_in: 7200 } });
    expect(longer.status).toBe(400);
    expect((await gw.api('GET', '/api/v1/users', { token: scoped.token })).status).toBe(403);
  });

  it('a scoped token manages only itself and what it made; revoking it revokes what it made', async () => {
    const parent = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'scoped parent', scopes: 'resource:m:rw', expires_in: 7200 } })).body;
    const child = (await gw.api('POST', '/api/v1/tokens', { token: parent.token, body: { name: 'child', scopes: 'resource:m:r', expires_in: 3600 } })).body;
    expect(child.created_with_token).toBe(parent.id);
    const grandchild = (await gw.api('POST', '/api/v1/tokens', { token: child.token, body: { name: 'grandchild', scopes: 'resource:m:r', expires_in: 600 } })).body;
    const unrelated = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'unrelated' } })).body;

    // The child may not touch its parent, nor the owner's other tokens, nor revoke everything.
    expect((await gw.api('DELETE', `/api/v1/tokens/${parent.id}`, { token: child.token })).status).toBe(403);
    expect((await gw.api('DELETE', `/api/v1/tokens/${unrelated.id}`, { token: parent.token })).status).toBe(403);
    expect((await gw.api('PATCH', `/api/v1/tokens/${unrelated.id}`, { token: parent.token, body: { name: 'mine' } })).status).toBe(403);
    expect((await gw.api('DELETE', '/api/v1/users/alice/tokens', { token: parent.token })).status).toBe(403);
    expect((await gw.introspect(unrelated.token)).body.active).toBe(true);
    // The parent may manage what it made.
    expect((await gw.api('PATCH', `/api/v1/tokens/${grandchild.id}`, { token: parent.token, body: { description: 'renamed by the parent' } })).status).toBe(200);

    // Revoking the parent (here through RFC 7009, as after a leak) revokes the whole family.
    await gw.api('POST', '/oauth2/revoke', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('downstream-api:downstream-secret-0123456789abcdef').toString('base64')}` },
      body: `token=${parent.token}`,
    });
    for (const t of [parent, child, grandchild]) expect((await gw.introspect(t.token)).body.active).toBe(false);
    expect((await gw.introspect(unrelated.token)).body.active).toBe(true);
    await gw.api('DELETE', `/api/v1/tokens/${unrelated.id}`, { token: alice });
  });

  it('a sliding token cannot mint a token that outlives its current window', async () => {
    const sliding = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'slider', scopes: 'read', expiration: 'sliding', sliding_window: '1d', max_lifetime: '90d' } })).body;
    const long = await gw.api('POST', '/api/v1/tokens', { token: sliding.token, body: { name: 'long', scopes: 'read', expires_in: '80d' } });
    expect(long.status).toBe(400);
    expect(long.body.error_description).toMatch(/outlive/);
    await gw.api('DELETE', `/api/v1/tokens/${sliding.id}`, { token: alice });
  });

  it('hard expiry: default, custom, maximum, and inactive once past', async () => {
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'too long', expires_in: '401d' } })).status).toBe(400);
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'past', expires_at: '2000-01-01T00:00:00Z' } })).status).toBe(400);
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'both', expires_at: '2100-01-01T00:00:00Z', expires_in: 60 } })).status).toBe(400);
    const at = new Date(gw.clock.now + 2 * DAY).toISOString();
    const dated = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'dated', expires_at: at } })).body;
    expect(dated.expires_at).toBe(at);
    const hour = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'hour', expires_in: 3600 } })).body;
    gw.clock.advance(3600_000 - 1);
    expect((await gw.introspect(hour.token)).body.active).toBe(true);
    // Use does not extend a hard token.
    gw.clock.advance(1);
    expect((await gw.introspect(hour.token)).body).toEqual({ active: false });
    const described = await gw.api('GET', `/api/v1/tokens/${hour.id}`, { token: alice });
    expect(described.body.status).toBe('expired');
    const listed = await gw.api('GET', '/api/v1/tokens', { token: alice });
    expect(listed.body.tokens.some((t: any) => t.id === hour.id)).toBe(false);
    const withExpired = await gw.api('GET', '/api/v1/tokens?include=expired', { token: alice });
    expect(withExpired.body.tokens.some((t: any) => t.id === hour.id)).toBe(true);
    await gw.api('DELETE', `/api/v1/tokens/${dated.id}`, { token: alice });
  });

  it('sliding expiry: each use pushes expiry to now + window, never past max_lifetime', async () => {
    const token = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'sliding', expiration: 'sliding', sliding_window: '1d', max_lifetime: '3d' } })).body;
    const start = gw.clock.now;
    expect(token).toMatchObject({ expiration: 'sliding', sliding_window: 86400, max_lifetime_at: new Date(start + 3 * DAY).toISOString() });
    for (let day = 1; day <= 2; day++) {
      gw.clock.advance(DAY - 1000);
      const res = await gw.introspect(token.token);
      expect(res.body.active).toBe(true);
      expect(res.body.exp).toBe(Math.floor((gw.clock.now + DAY) / 1000));
    }
    // Near the cap, expiry stops at max_lifetime.
    gw.clock.advance(DAY - 1000);
    expect((await gw.introspect(token.token)).body.exp).toBe(Math.floor((start + 3 * DAY) / 1000));
    gw.clock.now = start + 3 * DAY;
    expect((await gw.introspect(token.token)).body).toEqual({ active: false });

    // Unused for longer than the window: gone even before the cap.
    const idle = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'idle', expiration: 'sliding', sliding_window: 3600, max_lifetime: '30d' } })).body;
    gw.clock.advance(3600_000);
    expect((await gw.introspect(idle.token)).body).toEqual({ active: false });
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'x', expiration: 'sliding', sliding_window: '2d', max_lifetime: '1d' } })).status).toBe(400);
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'x', expiration: 'sliding', expires_in: 60 } })).status).toBe(400);
    expect((await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'x', expiration: 'forever' } })).status).toBe(400);
  });

  it('per-user limit: concurrent creates evict the oldest, and the response names them', async () => {
    const erin = await gw.login('erin', 'erin-password');
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => gw.api('POST', '/api/v1/tokens', { token: erin, body: { name: `t${i}` } })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const evicted = results.flatMap((r) => r.body.evicted as string[]);
    expect(evicted).toHaveLength(7);
    const active = (await gw.api('GET', '/api/v1/tokens', { token: erin })).body.tokens;
    expect(active).toHaveLength(8);
    const revoked = (await gw.api('GET', '/api/v1/tokens?include=revoked', { token: erin })).body.tokens.filter((t: any) => t.status === 'revoked');
    expect(revoked.map((t: any) => t.id).sort()).toEqual([...evicted].sort());
    expect(revoked.every((t: any) => t.revoked_by === 'system:token-limit')).toBe(true);
    for (const r of results) {
      expect((await gw.introspect(r.body.token)).body.active).toBe(!evicted.includes(r.body.id));
    }
  });

  it('revoke all of a user\'s tokens, by the user or an admin', async () => {
    const frank = await gw.login('frank', 'frank-password');
    const tokens = await Promise.all([1, 2, 3].map((i) => gw.api('POST', '/api/v1/tokens', { token: frank, body: { name: `f${i}` } })));
    const res = await gw.api('DELETE', '/api/v1/users/frank/tokens', { token: admin });
    // Every credential: the three PATs and the login that made them.
    expect(res.body).toEqual({ revoked: 3, tokens: 3, sessions: 1, grants: 0 });
    for (const t of tokens) expect((await gw.introspect(t.body.token)).body).toEqual({ active: false });
    expect((await gw.api('POST', '/api/v1/tokens', { token: frank, body: { name: 'too late' } })).status).toBe(401);
    const fresh = await gw.login('frank', 'frank-password');
    const again = await gw.api('POST', '/api/v1/tokens', { token: fresh, body: { name: 'f4' } });
    expect((await gw.api('DELETE', '/api/v1/users/frank/tokens', { token: fresh })).body).toEqual({ revoked: 1, tokens: 1, sessions: 1, grants: 0 });
    expect((await gw.introspect(again.body.token)).body.active).toBe(false);
  });

  it('disabling or deleting a user makes all their tokens inactive at once', async () => {
    const gina = await gw.login('gina', 'gina-password');
    const t = (await gw.api('POST', '/api/v1/tokens', { token: gina, body: { name: 'g' } })).body;
    expect((await gw.introspect(t.token)).body.active).toBe(true);
    await gw.api('PATCH', '/api/v1/users/gina', { token: admin, body: { enabled: false } });
    expect((await gw.introspect(t.token)).body).toEqual({ active: false });
    expect((await gw.api('GET', '/auth/verify', { token: t.token })).status).toBe(401);
    await gw.api('PATCH', '/api/v1/users/gina', { token: admin, body: { enabled: true } });
    expect((await gw.introspect(t.token)).body.active).toBe(true);
    expect((await gw.api('DELETE', '/api/v1/users/gina', { token: admin })).status).toBe(204);
    expect((await gw.introspect(t.token)).body).toEqual({ active: false });
    expect((await gw.api('GET', '/api/v1/users/gina', { token: admin })).status).toBe(404);
  });

  it('the emergency switch revokes every token of every user, and needs the confirmation', async () => {
    const a = (await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'pre-a' } })).body;
    const b = (await gw.api('POST', '/api/v1/tokens', { token: bob, body: { name: 'pre-b' } })).body;
    expect((await gw.api('POST', '/api/v1/admin/tokens/revoke-all', { token: admin, body: {} })).status).toBe(400);
    expect((await gw.introspect(a.token)).body.active).toBe(true);
    const res = await gw.api('POST', '/api/v1/admin/tokens/revoke-all', { token: admin, body: { confirm: 'revoke-all' } });
    expect(res.status).toBe(200);
    expect(res.body.tokens).toBeGreaterThanOrEqual(2);
    expect((await gw.introspect(a.token)).body).toEqual({ active: false });
    expect((await gw.introspect(b.token)).body).toEqual({ active: false });
    // Including the PATs the callers themselves used: a fresh login is the way back in.
    expect((await gw.api('GET', '/api/v1/me', { token: admin })).status).toBe(401);
    const fresh = await gw.login('admin', ADMIN_PASSWORD);
    const listed = (await gw.api('GET', `/api/v1/tokens/${a.id}`, { token: fresh })).body;
    expect(listed).toMatchObject({ status: 'revoked', revoked_by: 'admin (revoke-all)' });
    const post = (await gw.api('POST', '/api/v1/tokens', { token: fresh, body: { name: 'post', user: 'alice' } })).body;
    expect((await gw.introspect(post.token)).body.active).toBe(true);
  });
});

describe('per-user limit with onLimit: refuse', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 3, onLimit: 'refuse' } } });
  });
  afterAll(() => gw?.stop());

  it('refuses past the limit, even under concurrency, and changes nothing', async () => {
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: `r${i}` } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(7);
    expect(refused[0]!.body.error_description).toMatch(/limit/);
    const all = (await gw.api('GET', '/api/v1/tokens?include=revoked,expired', { token: admin })).body.tokens;
    expect(all).toHaveLength(3);
  });
});
