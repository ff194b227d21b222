/**
 * `tessera audit` against a real gateway: what CLI actions record (actor, credential, IP), the
 * filters, the caller's own log with --mine, the admin-only refusal, and --follow printing
 * events as they happen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cliUser, type CliUser } from './helpers.js';

describe('tessera audit', () => {
  let gw: TestGateway;
  let admin: CliUser;
  let alice: CliUser;
  const secrets: string[] = [ADMIN_PASSWORD, 'alice-password', 'zed-password-1'];

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = cliUser();
    alice = cliUser();
    expect((await admin.run(['login', '--server', gw.url, '-u', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD })).code).toBe(0);
    expect((await admin.run(['user', 'add', 'alice', '--password-stdin'], { input: 'alice-password' })).code).toBe(0);
    expect((await alice.run(['login', '--server', gw.url, '-u', 'alice', '--password-stdin'], { input: 'alice-password' })).code).toBe(0);
    const created = await alice.run(['token', 'create', '--name', 'from-cli', '--quiet']);
    expect(created.code, created.stderr).toBe(0);
    secrets.push(created.stdout.trim());
  }, 120_000); // four CLI processes (and maybe the CLI build) on a loaded machine
  afterAll(async () => {
    admin?.dispose();
    alice?.dispose();
    await gw?.stop();
  });

  it('CLI actions are recorded with the user, the credential and the IP; --json gives the API\'s events', async () => {
    const res = await admin.run(['audit', '--type', 'token.', '--user', 'alice', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const { events } = JSON.parse(res.stdout);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'token.created', outcome: 'succeeded', actor: { username: 'alice', credential: 'session' }, target: { username: 'alice' }, ip: '127.0.0.1', details: { name: 'from-cli' } });
    const added = JSON.parse((await admin.run(['audit', '--type', 'user.created', '--since', '1h', '--json'])).stdout).events;
    expect(added.map((e: any) => [e.target.username, e.actor.username])).toContainEqual(['alice', 'admin']);
  });

  it('prints a table by default, and a user reads their own log with --mine but not the whole trail', async () => {
    const table = await admin.run(['audit', '--actor', 'alice']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+TYPE\s+OUTCOME\s+ACTOR\s+TARGET\s+IP$/);
    expect(table.stdout).toMatch(/token\.created\s+succeeded\s+alice \(session\)/);
    expect(table.stdout).toMatch(/login\.succeeded/);
    const mine = await alice.run(['audit', '--mine', '--json']);
    expect(mine.code).toBe(0);
    expect(JSON.parse(mine.stdout).events.map((e: any) => e.type)).toEqual(expect.arrayContaining(['token.created', 'login.succeeded', 'user.created']));
    const refused = await alice.run(['audit']);
    expect(refused.code).toBe(3);
    expect((await admin.run(['audit', '--since', 'last-week'])).code).toBe(1);
  });

  it('--follow prints new events as they happen', async () => {
    const running = admin.start(['audit', '--follow', '--interval', '0.2', '--type', 'user.']);
    try {
      await running.waitFor(/user\.created.*alice/);
      await gw.api('POST', '/api/v1/users', { token: await gw.login('admin', ADMIN_PASSWORD), body: { username: 'zed', password: 'zed-password-1' } });
      const output = await running.waitFor(/user\.created.*zed/);
      // Oldest first: the new event comes after alice's.
      expect(output.indexOf('zed')).toBeGreaterThan(output.indexOf('alice'));
    } finally {
      await running.stop();
    }
  });

  it('no secret reaches an event or log line', async () => {
    const everything = JSON.stringify(JSON.parse((await admin.run(['audit', '--limit', '200', '--json'])).stdout)) + JSON.stringify(gw.auditLines);
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
  });
});
