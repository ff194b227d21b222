/**
 * Reading the trail: filters, cursor pagination (newest first), the caller's own security log,
 * and refusals of bad queries, through the real API on the embedded store and on Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const HOUR = 3_600_000;

for (const store of ['redis', 'memory'] as const) {
  describe(`audit queries (${store} store)`, () => {
    let gw: TestGateway;
    let admin: string;
    let alice: string;
    let aliceToken: string;
    let startOfSecondBatch: number;

    const get = async (query: string, token = admin) => gw.api('GET', `/api/v1/audit?${query}`, { token });
    const all = async (query: string) => {
      const out: any[] = [];
      let next: string | null = null;
      do {
        const page: any = await get(`${query}${next ? `&before=${next}` : ''}`);
        expect(page.status).toBe(200);
        out.push(...page.body.events);
        next = page.body.next;
      } while (next);
      return out;
    };

    beforeAll(async () => {
      gw = await startTestGateway({ store });
      admin = await gw.personalToken('admin', ADMIN_PASSWORD);
      for (const name of ['alice', 'u1', 'u2']) {
        await gw.api('POST', '/api/v1/users', { token: admin, body: { username: name, password: `${name}-password` } });
      }
      alice = await gw.personalToken('alice', 'alice-password');
      gw.clock.advance(2 * HOUR);
      startOfSecondBatch = gw.clock.now;
      const made = await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'ci' } });
      aliceToken = made.body.id;
      await gw.api('PATCH', `/api/v1/tokens/${aliceToken}`, { token: alice, body: { description: 'for CI' } });
      await gw.api('PATCH', '/api/v1/users/u2', { token: admin, body: { role: 'admin' } });
      await gw.api('POST', '/api/v1/login', { body: { username: 'u1', password: 'wrong-password' } });
    });
    afterAll(() => gw?.stop());

    it('pages newest first with a cursor, with no event twice and none missed', async () => {
      const whole = (await get('limit=200')).body;
      expect(whole.next).toBeNull();
      const times = whole.events.map((e: any) => Date.parse(e.time));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const paged = await all('limit=3');
      expect(paged.map((e) => e.id)).toEqual(whole.events.map((e: any) => e.id));
      const first = await get('limit=3');
      expect(first.body.events).toHaveLength(3);
      expect(first.body.next).toEqual(first.body.events[2].cursor);
    });

    it('filters by type prefix, actor, target user, token id and time', async () => {
      expect(new Set((await all('type=user.')).map((e) => e.type))).toEqual(new Set(['user.created', 'user.changed']));
      expect((await all('type=token.')).every((e) => e.type.startsWith('token.'))).toBe(true);
      const byAlice = await all('actor=alice');
      expect(byAlice.length).toBeGreaterThan(0);
      expect(byAlice.every((e) => e.actor.username === 'alice')).toBe(true);
      expect((await all('user=u2')).map((e) => e.type)).toEqual(['user.changed', 'user.created']);
      expect((await all(`token=${aliceToken}`)).map((e) => e.type)).toEqual(['token.edited', 'token.created']);
      const recent = await all('since=1h');
      expect(recent.length).toBeGreaterThan(0);
      expect(recent.every((e) => Date.parse(e.time) >= startOfSecondBatch)).toBe(true);
      const early = await all(`until=${new Date(startOfSecondBatch - 1).toISOString()}`);
      expect(early.map((e) => e.type)).toContain('user.created');
      expect(early.every((e) => Date.parse(e.time) < startOfSecondBatch)).toBe(true);
      expect((await all('type=login.failed&user=u1')).map((e) => e.reason)).toEqual(['invalid_credentials']);
    });

    it('a user sees their own security log, and only what involves them', async () => {
      const res = await gw.api('GET', '/api/v1/me/events', { token: alice });
      expect(res.status).toBe(200);
      const types = res.body.events.map((e: any) => e.type);
      expect(types).toEqual(expect.arrayContaining(['token.edited', 'token.created', 'login.succeeded', 'user.created']));
      expect(types).not.toContain('user.changed'); // u2's promotion is not alice's business
      const aliceId = res.body.events[0].actor.userId ?? res.body.events[0].target.userId;
      for (const e of res.body.events) expect([e.actor.userId, e.target?.userId]).toContain(aliceId);
      // Asking for someone else's events does not widen it.
      const sneaky = await gw.api('GET', '/api/v1/me/events?user=u2&actor=admin', { token: alice });
      expect(sneaky.body.events).toEqual([]);
    });

    it('refuses non-admins, scoped tokens and malformed queries', async () => {
      expect((await get('limit=5', alice)).status).toBe(403);
      const scoped = await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'narrow', scopes: 'read:things' } });
      expect((await gw.api('GET', '/api/v1/me/events', { token: scoped.body.token })).status).toBe(403);
      expect((await gw.api('GET', '/api/v1/me/events')).status).toBe(401);
      for (const bad of ['before=abc', 'limit=0', 'limit=500', 'since=yesterday', 'outcome=maybe', 'since=1h&until=2h']) {
        const res = await get(bad);
        expect(res.status, bad).toBe(400);
        expect(res.body.error).toBe('invalid_request');
      }
    });

    // Last: the event it adds would show up in the other tests' lists.
    it('finds an event recorded under a type\'s former name by either name', async () => {
      const [latest] = await gw.services.store.auditRead({ count: 1 });
      const old = { ...JSON.parse(latest!.event), id: 'evt_renamed-type', type: 'ldap.user_disabled_by_revalidation', target: { username: 'u1' } };
      await gw.services.store.auditAppend(JSON.stringify(old), gw.clock.now, gw.services.config.audit.retention);
      for (const type of ['ldap.user_disabled_by_revalidation', 'user.disabled_by_revalidation', 'user.disabled']) {
        expect((await all(`type=${type}`)).map((e) => e.id), type).toContain('evt_renamed-type');
      }
      expect((await all('type=token.')).map((e) => e.id)).not.toContain('evt_renamed-type');
    });
  });
}
