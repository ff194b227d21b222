import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser, type CliUser } from './helpers.js';

const DAY = 86_400_000;

// Spawns node processes: budgets for a loaded machine; the CLI is compiled before any test's clock runs.
vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

describe('tessera token', () => {
  let gw: TestGateway;
  let admin: CliUser;
  let alice: CliUser;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxTtl: '400d' } } });
    const access = await gw.login('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob']) {
      await gw.api('POST', '/api/v1/users', { token: access, body: { username, password: `${username}-password` } });
    }
    admin = cliUser();
    alice = cliUser();
    for (const [cli, username, password] of [[admin, 'admin', ADMIN_PASSWORD], [alice, 'alice', 'alice-password']] as const) {
      const res = await cli.run(['login', '--server', gw.url, '-u', username, '--password-stdin'], { input: password });
      expect(res.code, res.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    admin?.dispose();
    alice?.dispose();
    await gw?.stop();
  });

  it('create --quiet prints only the token, which introspects as active', async () => {
    const res = await alice.run(['token', 'create', '--name', 'ci', '--ttl', '90d', '--scope', 'read', '--scope', 'resource:models:r', '--quiet']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(/^tsr_\S+\n$/);
    const token = res.stdout.trim();
    const introspected = await gw.introspect(token);
    expect(introspected.body).toMatchObject({ active: true, username: 'alice', scope: 'read resource:models:r' });
    expect(introspected.body.exp * 1000 - gw.clock.now).toBeGreaterThan(89 * DAY);
  });

  it('create shows the token once, with the warning; --json carries the whole answer', async () => {
    const human = await alice.run(['token', 'create', '--name', 'laptop', '--description', 'my laptop']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Created token \w+ "laptop" for alice; expires .* \(in 30d\)\.\n\n {4}tsr_\S+\n\nStore this token now: it is shown only once\.\n$/);
    const json = await alice.run(['token', 'create', '--name', 'sliding', '--auto-refresh', '7d', '--max-lifetime', '90d', '--json']);
    const created = JSON.parse(json.stdout);
    expect(created).toMatchObject({ name: 'sliding', expiration: 'sliding', sliding_window: 7 * 86_400, user: 'alice', token: expect.stringMatching(/^tsr_/) });
    expect(Date.parse(created.max_lifetime_at) - gw.clock.now).toBe(90 * DAY);
  });

  it('lists, describes, edits and revokes', async () => {
    const id = JSON.parse((await alice.run(['token', 'create', '--name', 'to-edit', '--json'])).stdout).id as string;
    const secret = JSON.parse((await alice.run(['token', 'create', '--name', 'to-revoke', '--json'])).stdout) as { id: string; token: string };

    const list = await alice.run(['token', 'list']);
    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +NAME +USER +STATUS +EXPIRES +LAST USED +SCOPES$/);
    expect(rows.find((r) => r.startsWith(id))).toMatch(/ to-edit +alice +active +in 30d +never +all$/);
    // Columns line up: every row has its NAME where the header has it.
    expect(rows.every((r) => r.indexOf(' ', header!.indexOf('NAME')) > header!.indexOf('NAME') - 1)).toBe(true);

    const described = await alice.run(['token', 'describe', id, secret.id]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(new RegExp(`^ID: +${id}$`, 'm'));
    expect(described.stdout).toMatch(/^Name: +to-revoke$/m);
    expect(described.stdout).not.toContain(secret.token);
    const describedJson = JSON.parse((await alice.run(['token', 'describe', id, '--json'])).stdout);
    expect(describedJson).toMatchObject({ id, name: 'to-edit', status: 'active' });

    const edited = await alice.run(['token', 'edit', id, '--name', 'edited', '--description', 'new words']);
    expect(edited).toMatchObject({ code: 0, stdout: `Updated token ${id} "edited".\n` });
    expect((await gw.api('GET', `/api/v1/tokens/${id}`, { token: await gw.login('alice', 'alice-password') })).body).toMatchObject({ name: 'edited', description: 'new words' });

    const revoked = await alice.run(['token', 'revoke', secret.id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked token ${secret.id} "to-revoke" of alice.\n` });
    expect((await gw.introspect(secret.token)).body).toEqual({ active: false });
    const active = JSON.parse((await alice.run(['token', 'list', '--json'])).stdout).tokens.map((t: { id: string }) => t.id);
    expect(active).not.toContain(secret.id);
    const all = JSON.parse((await alice.run(['token', 'list', '--all', '--json'])).stdout).tokens;
    expect(all.find((t: { id: string }) => t.id === secret.id)).toMatchObject({ status: 'revoked', revoked_by: 'alice' });
    // --limit stops after N, oldest first, on the same order the full list has.
    const two = JSON.parse((await alice.run(['token', 'list', '--all', '--limit', '2', '--json'])).stdout).tokens;
    expect(two.map((t: { id: string }) => t.id)).toEqual(all.slice(0, 2).map((t: { id: string }) => t.id));
    expect((await alice.run(['token', 'list', '--limit', '0'])).code).toBe(2);
  });

  it('describe and revoke of several ids go on past a missing one, then exit 1', async () => {
    const id = JSON.parse((await alice.run(['token', 'create', '--name', 'one-of-two', '--json'])).stdout).id as string;
    const res = await alice.run(['token', 'describe', id, 'no-such-token']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^Name: +one-of-two$/m);
    expect(res.stderr).toBe('tessera: token no-such-token not found\ntessera: 1 of 2 failed\n');
  });

  it('an admin creates a token for another user; a normal user is refused (exit 3)', async () => {
    const made = await admin.run(['token', 'create', '--user', 'bob', '--name', 'issued', '--quiet']);
    expect(made.code, made.stderr).toBe(0);
    expect((await gw.introspect(made.stdout.trim())).body).toMatchObject({ active: true, username: 'bob' });
    const bobs = JSON.parse((await admin.run(['token', 'list', '--user', 'bob', '--json'])).stdout).tokens;
    expect(bobs).toEqual([expect.objectContaining({ name: 'issued', user: 'bob', created_by: 'admin' })]);

    const refused = await alice.run(['token', 'create', '--user', 'bob', '--name', 'sneaky']);
    expect(refused).toMatchObject({ code: 3, stdout: '', stderr: 'tessera: only admins create tokens for other users\n' });
    expect((await alice.run(['token', 'list', '--user', 'bob'])).code).toBe(3);
    expect((await alice.run(['token', 'list', 'bob'])).code).toBe(3);
    expect((await alice.run(['token', 'list', '--all-users'])).code).toBe(3);
  });

  it('the user a command is about may be given positionally; --user keeps working; both must agree', async () => {
    await admin.run(['token', 'create', '--user', 'bob', '--name', 'positional', '-q']);
    const byFlag = JSON.parse((await admin.run(['token', 'list', '--user', 'bob', '--json'])).stdout).tokens;
    const byName = JSON.parse((await admin.run(['token', 'list', 'bob', '--json'])).stdout).tokens;
    expect(byName.map((t: { id: string }) => t.id)).toEqual(byFlag.map((t: { id: string }) => t.id));
    expect(byName.map((t: { name: string }) => t.name)).toContain('positional');
    expect((await admin.run(['token', 'list', 'bob', '--user', 'bob', '--json'])).code).toBe(0);
    const clash = await admin.run(['token', 'list', 'bob', '--user', 'alice']);
    expect(clash).toMatchObject({ code: 2, stdout: '' });
    expect(clash.stderr).toMatch(/^tessera: give the user once: bob or --user alice/);
    expect((await admin.run(['token', 'list', 'bob', '--all-users'])).code).toBe(2);
    expect((await admin.run(['token', 'list', 'bob', 'alice'])).code).toBe(2);

    await gw.api('POST', '/api/v1/login', { body: { username: 'bob', password: 'bob-password' } });
    const sessionsByName = await admin.run(['session', 'list', 'bob', '--json']);
    expect(sessionsByName.code, sessionsByName.stderr).toBe(0);
    expect(JSON.parse(sessionsByName.stdout).sessions.length).toBeGreaterThan(0);
    expect(JSON.parse(sessionsByName.stdout)).toEqual(JSON.parse((await admin.run(['session', 'list', '--user', 'bob', '--json'])).stdout));
    expect((await admin.run(['help', 'session', 'list'])).stdout).toMatch(/^Usage: tessera session list \[USER\]/);

    const doomed = (await admin.run(['token', 'create', '--user', 'bob', '--name', 'doomed-positional', '-q'])).stdout.trim();
    const revoked = await admin.run(['token', 'revoke', '--all', 'bob']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/ of bob\.$/m);
    expect((await gw.introspect(doomed)).body).toEqual({ active: false });
    expect((await admin.run(['token', 'revoke', '--all', 'bob', 'alice'])).code).toBe(2);
  });

  it('revoke --all --user revokes every token of that user', async () => {
    const token = (await admin.run(['token', 'create', '--user', 'bob', '--name', 'doomed', '-q'])).stdout.trim();
    const res = await admin.run(['token', 'revoke', '--all', '--user', 'bob']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Revoked \d+ tokens?, \d+ sessions? and \d+ app grants? of bob\.$/m);
    expect((await gw.introspect(token)).body).toEqual({ active: false });
    expect((await admin.run(['token', 'revoke', '--all'])).code).toBe(2);
  });

  it('checks durations and dates before calling the gateway (exit 2)', async () => {
    const bad = await alice.run(['token', 'create', '--name', 'x', '--ttl', 'forever']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tessera: --ttl: not a duration: forever/);
    expect(bad.stderr).toContain('Usage: tessera token create');
    expect((await alice.run(['token', 'create', '--name', 'x', '--ttl', '1d', '--expires', '2030-01-01'])).code).toBe(2);
    expect((await alice.run(['token', 'create', '--name', 'x', '--ttl', '1d', '--auto-refresh', '7d'])).code).toBe(2);
    expect((await alice.run(['token', 'create', '--ttl', '1d'])).stderr).toMatch(/^tessera: missing --name/);
    const expires = new Date(gw.clock.now + 10 * DAY).toISOString().slice(0, 10);
    const dated = JSON.parse((await alice.run(['token', 'create', '--name', 'dated', '--expires', expires, '--json'])).stdout);
    expect(dated.expires_at).toBe(`${expires}T00:00:00.000Z`);
  });
});
