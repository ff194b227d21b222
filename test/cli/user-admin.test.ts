import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser, type CliUser } from './helpers.js';

// Spawns node processes: budgets for a loaded machine; the CLI is compiled before any test's clock runs.
vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

describe('tessera user and tessera admin', () => {
  let gw: TestGateway;
  let admin: CliUser;

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = cliUser();
    const res = await admin.run(['login', '--server', gw.url, '-u', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD });
    expect(res.code, res.stderr).toBe(0);
  });
  afterAll(async () => {
    admin?.dispose();
    await gw?.stop();
  });

  it('adds, lists, changes, disables, enables and deletes a user', async () => {
    const added = await admin.run(['user', 'add', 'carol', '--password-stdin', '--role', 'normal', '--display-name', 'Carol C', '--email', 'carol@example.com'], { input: 'carol-password\n' });
    expect(added).toMatchObject({ code: 0, stdout: 'Created user carol (normal).\n' });
    expect(await gw.login('carol', 'carol-password')).toMatch(/^tsa_/);

    const list = await admin.run(['user', 'list']);
    expect(list.stdout).toMatch(/^USERNAME +ROLE +SOURCE +ENABLED +DISPLAY NAME +EMAIL +CREATED$/m);
    expect(list.stdout).toMatch(/^carol +normal +local +yes +Carol C +carol@example\.com +\S+ ago$/m);
    const users = JSON.parse((await admin.run(['user', 'list', '--json'])).stdout).users;
    expect(users.map((u: { username: string }) => u.username).sort()).toEqual(['admin', 'carol']);

    expect((await admin.run(['user', 'set', 'carol', '--role', 'admin', '--password-stdin'], { input: 'carol-new-password' })).code).toBe(0);
    expect(await gw.login('carol', 'carol-new-password')).toMatch(/^tsa_/);
    expect((await admin.run(['user', 'set', 'carol'])).code).toBe(2);
    expect((await admin.run(['user', 'set', 'carol', '--role', 'root'])).stderr).toMatch(/^tessera: --role must be admin or normal/);

    expect(await admin.run(['user', 'disable', 'carol'])).toMatchObject({ code: 0, stdout: 'Disabled user carol.\n' });
    expect((await gw.api('POST', '/api/v1/login', { body: { username: 'carol', password: 'carol-new-password' } })).status).toBe(401);
    expect((await admin.run(['user', 'set', 'carol', '--enable'])).code).toBe(0);
    expect(JSON.parse((await admin.run(['user', 'list', '--json', '--search', 'carol'])).stdout).users[0]).toMatchObject({ role: 'admin', enabled: true });

    const unconfirmed = await admin.run(['user', 'delete', 'carol']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/^tessera: refusing to delete without confirmation: stdin is not a terminal; pass --yes/);
    expect(await admin.run(['user', 'delete', 'carol', '--yes'])).toMatchObject({ code: 0, stdout: 'Deleted user carol.\n' });
    expect((await admin.run(['user', 'delete', 'carol', '--yes'])).code).toBe(1);
  });

  it('refuses user management to a normal user (exit 3)', async () => {
    await admin.run(['user', 'add', 'dave', '--password-stdin'], { input: 'dave-password' });
    const dave = cliUser();
    try {
      await dave.run(['login', '--server', gw.url, '-u', 'dave', '--password-stdin'], { input: 'dave-password' });
      const res = await dave.run(['user', 'list']);
      expect(res).toMatchObject({ code: 3, stdout: '' });
      expect(res.stderr).toMatch(/^tessera: .*administrator/);
      expect((await dave.run(['admin', 'revoke-all-tokens', '--yes'])).code).toBe(3);
    } finally {
      dave.dispose();
    }
  });

  it('admin revoke-all-tokens refuses without --yes when stdin is not a terminal (exit 2), and with --yes revokes every token', async () => {
    const token = await gw.personalToken('admin', ADMIN_PASSWORD);
    const refused = await admin.run(['admin', 'revoke-all-tokens']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^tessera: refusing without confirmation: stdin is not a terminal; pass --yes\n\nUsage: tessera admin revoke-all-tokens/);
    expect((await gw.introspect(token)).body.active).toBe(true);

    const done = await admin.run(['admin', 'revoke-all-tokens', '--yes', '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ tokens: expect.any(Number), users: expect.any(Number), sessions: expect.any(Number), grants: expect.any(Number) });
    expect((await gw.introspect(token)).body).toEqual({ active: false });
  });
});
