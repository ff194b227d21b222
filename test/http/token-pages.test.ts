/**
 * `GET /api/v1/tokens` by page: cursor and limit, retained tokens only with `include`, clear
 * errors for a bad limit or cursor. Real gateway on real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('GET /api/v1/tokens pages', () => {
  let gw: TestGateway;
  let admin: string;
  let carol: string;
  const made: string[] = [];
  const revoked: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 500 } } });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'carol', password: 'carol-password' } });
    carol = await gw.personalToken('carol', 'carol-password');
    made.push((await gw.api('GET', '/api/v1/tokens', { token: carol })).body.tokens[0].id);
    for (let i = 0; i < 129; i++) {
      gw.clock.advance(1);
      const created = await gw.api('POST', '/api/v1/tokens', { token: carol, body: { name: `t${i}` } });
      expect(created.status).toBe(201);
      made.push(created.body.id);
    }
    for (const id of made.splice(10, 5)) {
      expect((await gw.api('DELETE', `/api/v1/tokens/${id}`, { token: carol })).status).toBe(200);
      revoked.push(id);
    }
  }, 120_000);
  afterAll(() => gw?.stop());

  const pages = async (query: string, token = carol): Promise<{ ids: string[]; count: number }> => {
    const ids: string[] = [];
    let next: string | undefined;
    let count = 0;
    do {
      const answer = await gw.api('GET', `/api/v1/tokens?${query}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`, { token });
      expect(answer.status).toBe(200);
      ids.push(...answer.body.tokens.map((t: any) => t.id));
      next = answer.body.next;
      count++;
      expect(count).toBeLessThan(100);
    } while (next);
    return { ids, count };
  };

  it('pages through the active tokens, oldest first, each once; revoked ones are not among them', async () => {
    const { ids, count } = await pages('limit=50');
    expect(ids).toEqual(made);
    expect(count).toBe(3);
    const first = await gw.api('GET', '/api/v1/tokens', { token: carol });
    expect(first.body.tokens).toHaveLength(100); // the default page
    expect(first.body.next).toEqual(expect.any(String));
    expect(first.body.tokens.every((t: any) => t.status === 'active')).toBe(true);
  });

  it('lists the revoked ones after the active ones with include=revoked, for the owner and for an admin', async () => {
    const { ids } = await pages('limit=40&include=revoked');
    expect(ids.slice(0, made.length)).toEqual(made);
    expect(ids.slice(made.length).sort()).toEqual([...revoked].sort());
    expect((await pages('limit=1000&include=revoked,expired&user=carol', admin)).ids).toEqual(ids);
  });

  it('answers 400 invalid_request for a bad limit or cursor, and 403 for another user\'s tokens', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'limit=1.5', 'cursor=nonsense', 'cursor=a.1.%20x']) {
      const answer = await gw.api('GET', `/api/v1/tokens?${query}`, { token: carol });
      expect(answer.status, query).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
    }
    expect((await gw.api('GET', '/api/v1/tokens?user=admin', { token: carol })).status).toBe(403);
  });
});
