/**
 * No state change without its event. A failure is injected into the real Redis store's audit
 * append at each step of the write-ahead protocol:
 *   - the "attempted" event cannot be written: the action is refused (503) and nothing changes;
 *   - the outcome cannot be written, as if the process died right after the change: the change
 *     stands and so does its "attempted" event.
 * Also: an event outlives the token record it is about, and the trail is trimmed at its own
 * retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporarilyUnavailable } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const DAY = 86_400_000;

describe('write-ahead audit events under injected failures', () => {
  let gw: TestGateway;
  let admin: string;
  const faults = { attempted: false, outcome: false };

  const faulty = (store: Store): Store =>
    new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'auditAppend') {
          return (event: string, now: number, retention: number, replaces?: string) => {
            if (replaces === undefined ? faults.attempted : faults.outcome) return Promise.reject(new TemporarilyUnavailable('injected failure'));
            return target.auditAppend(event, now, retention, replaces);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

  const tokenNames = async () => (await gw.api('GET', '/api/v1/tokens?include=revoked', { token: admin })).body.tokens.map((t: any) => t.name);
  const eventsOf = async (query: string) => (await gw.api('GET', `/api/v1/audit?${query}`, { token: admin })).body.events as any[];

  beforeAll(async () => {
    gw = await startTestGateway({ wrapStore: faulty });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  it('neither: when the attempted event cannot be stored, the action is refused with 503 and changes nothing', async () => {
    faults.attempted = true;
    const res = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'never-made' } });
    const user = await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'never-made', password: 'never-made-pw' } });
    faults.attempted = false;
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(user.status).toBe(503);
    expect(await tokenNames()).not.toContain('never-made');
    expect((await gw.api('GET', '/api/v1/users/never-made', { token: admin })).status).toBe(404);
    expect(await eventsOf('type=token.created')).toHaveLength(1); // the test's own admin token only
  });

  it('both: a crash between the change and its outcome leaves the change with its "attempted" event', async () => {
    faults.outcome = true;
    const res = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'made-before-crash' } });
    faults.outcome = false;
    // The change was made and answered; its event stays "attempted": it may describe a change, and here it does.
    expect(res.status).toBe(201);
    expect(await tokenNames()).toContain('made-before-crash');
    const [event] = await eventsOf(`token=${res.body.id}`);
    expect(event).toMatchObject({ type: 'token.created', outcome: 'attempted', target: { tokenId: res.body.id }, actor: { username: 'admin' } });
    // The log stream still says what happened, marked as stored "attempted".
    expect(gw.auditLines.find((l) => l.id === event.id)).toMatchObject({ outcome: 'succeeded', details: { storedAs: 'attempted' } });
  });

  it('a change that fails replaces its attempted event by a failed one', async () => {
    const res = await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'admin', password: 'second-admin-pw' } });
    expect(res.status).toBe(409);
    const [failed] = await eventsOf('type=user.created&outcome=failed');
    expect(failed).toMatchObject({ type: 'user.created', outcome: 'failed', reason: 'conflict', target: { username: 'admin' } });
    // Only the crashed action above is left "attempted".
    expect(await eventsOf('outcome=attempted')).toHaveLength(1);
  });
});

describe('retention', () => {
  let gw: TestGateway;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gw?.stop());

  it('a revoked token\'s events outlive its record, and go at the audit retention', async () => {
    const created = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'short-lived' } });
    expect((await gw.api('DELETE', `/api/v1/tokens/${created.body.id}`, { token: admin })).status).toBe(200);
    const history = async () => (await gw.api('GET', `/api/v1/audit?token=${created.body.id}`, { token: admin })).body.events.map((e: any) => e.type);
    expect(await history()).toEqual(['token.revoked', 'token.created']);

    gw.clock.advance(31 * DAY); // past tokens.auditRetention (30 d): the record is gone
    const listed = await gw.api('GET', '/api/v1/tokens?include=revoked', { token: admin });
    expect(listed.body.tokens.map((t: any) => t.id)).not.toContain(created.body.id);
    expect((await gw.api('GET', `/api/v1/tokens/${created.body.id}`, { token: admin })).status).toBe(404);
    expect(await history()).toEqual(['token.revoked', 'token.created']);

    gw.clock.advance(60 * DAY); // 91 days: past audit.retention (90 d); the next append trims
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: 'wrong-password' } })).status).toBe(401);
    expect(await history()).toEqual([]);
  });
});
