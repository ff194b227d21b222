/**
 * The admin listings that span every user answer one page per request, over real HTTP on Redis:
 * `GET /api/v1/tokens?all=true` (users in name order, each user's tokens in their order) and
 * `GET /api/v1/users`. Following `next` meets everything exactly once; bad paging input is a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('listings across every user, by page', () => {
  let gw: TestGateway;
  let admin: string;
  const made: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 10 } } });
    admin = await gw.login('admin', ADMIN_PASSWORD);
    for (const [name, count] of [['cleo', 3], ['bert', 0], ['dana', 4], ['abel', 1]] as const) {
      expect((await gw.api('POST', '/api/v1/users', { token: admin, body: { username: name, password: `${name}-password` } })).status).toBe(201);
      for (let i = 0; i < count; i++) {
        const created = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: `${name}-${i}`, user: name } });
        made.push(created.body.id);
      }
    }
    const revoked = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'gone', user: 'cleo' } });
    await gw.api('DELETE', `/api/v1/tokens/${revoked.body.id}`, { token: admin });
  }, 120_000);
  afterAll(() => gw?.stop());

  const follow = async (path: string, key: 'tokens' | 'users'): Promise<{ items: any[]; sizes: number[] }> => {
    const items: any[] = [];
    const sizes: number[] = [];
    let next: string | undefined;
    do {
      const res = await gw.api('GET', `${path}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`, { token: admin });
      expect(res.status).toBe(200);
      items.push(...res.body[key]);
      sizes.push(res.body[key].length);
      next = res.body.next;
    } while (next && sizes.length < 100);
    return { items, sizes };
  };

  it('?all=true answers the first page and a next; following it lists every active token once, by user name', async () => {
    const first = await gw.api('GET', '/api/v1/tokens?all=true&limit=3', { token: admin });
    expect(first.body.tokens).toHaveLength(3);
    expect(first.body.next).toEqual(expect.any(String));
    const { items, sizes } = await follow('/api/v1/tokens?all=true&limit=3', 'tokens');
    expect(sizes.every((n) => n <= 3)).toBe(true);
    expect(items.map((t) => t.user)).toEqual(['abel', 'cleo', 'cleo', 'cleo', 'dana', 'dana', 'dana', 'dana']);
    // Within a user, oldest first (tokens made in the same millisecond go by id).
    expect(items.map((t) => t.name).sort()).toEqual(['abel-0', 'cleo-0', 'cleo-1', 'cleo-2', 'dana-0', 'dana-1', 'dana-2', 'dana-3']);
    expect(new Set(items.map((t) => t.id))).toEqual(new Set(made));
  });

  it('?all=true&include=revoked adds the revoked ones, each after its owner\'s active tokens', async () => {
    const { items } = await follow('/api/v1/tokens?all=true&include=revoked&limit=2', 'tokens');
    expect(items.map((t) => `${t.user}:${t.status}`)).toEqual(['abel:active', ...Array(3).fill('cleo:active'), 'cleo:revoked', ...Array(4).fill('dana:active')]);
    expect(items.find((t) => t.status === 'revoked').name).toBe('gone');
  });

  it('refuses bad paging input with invalid_request and a normal user with 403', async () => {
    for (const query of ['all=true&cursor=nonsense', 'all=true&cursor=g.e30x', 'all=true&limit=0', 'all=true&limit=1001', 'all=true&user=cleo', 'limit=abc']) {
      const res = await gw.api('GET', `/api/v1/tokens?${query}`, { token: admin });
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
    for (const query of ['cursor=u.bm9wZQ', 'limit=5000']) {
      const res = await gw.api('GET', `/api/v1/users?${query}`, { token: admin });
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
    const cleo = await gw.login('cleo', 'cleo-password');
    expect((await gw.api('GET', '/api/v1/tokens?all=true', { token: cleo })).status).toBe(403);
    expect((await gw.api('GET', '/api/v1/users', { token: cleo })).status).toBe(403);
  });

  it('GET /api/v1/users pages in name order; a search pages too', async () => {
    const { items, sizes } = await follow('/api/v1/users?limit=2', 'users');
    expect(sizes).toEqual([2, 2, 1]);
    expect(items.map((u) => u.username)).toEqual(['abel', 'admin', 'bert', 'cleo', 'dana']);
    const { items: found } = await follow('/api/v1/users?q=E&limit=1', 'users');
    expect(found.map((u) => u.username)).toEqual(['abel', 'bert', 'cleo']);
  });
});
