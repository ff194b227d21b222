/**
 * `tessera login` keeps the device credentials the gateway returns and sends them back, so the
 * machine stays a known device: failed logins from elsewhere (here: the same address, where the
 * account+address limit trips) do not lock its owner out. Logout keeps them: they grant nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cliUser, type CliUser } from './helpers.js';

describe('tessera login as a known device', () => {
  let gw: TestGateway;
  const users: CliUser[] = [];
  let cli: CliUser;
  let stranger: CliUser;

  beforeAll(async () => {
    // Builds the CLI when the sources changed: in the hook, whose time limit is longer.
    cli = cliUser();
    stranger = cliUser();
    users.push(cli, stranger);
    gw = await startTestGateway({ config: { auth: { lockout: { maxFailuresPerAccountAndIp: 3, maxFailuresPerAccount: 50, maxFailuresPerIp: 100, window: '15m' } } } });
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: 'alice-password' } });
  });
  afterAll(async () => {
    for (const user of users) user.dispose();
    await gw?.stop();
  });

  it('stores the device token, keeps it over logout, and signs in while others are locked out', async () => {
    const login = (who: CliUser) => who.run(['login', '--server', gw.url, '-u', 'alice', '--password-stdin'], { input: 'alice-password' });

    expect((await login(cli)).code).toBe(0);
    const device = cli.credentials().devices[gw.url] as string;
    expect(device).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await cli.run(['logout'])).code).toBe(0);
    expect(cli.credentials().devices[gw.url]).toBe(device);

    for (let i = 0; i < 3; i++) {
      expect((await gw.api('POST', '/api/v1/login', { body: { username: 'alice', password: `guess-${i}-guess` } })).status).toBe(401);
    }
    const refused = await login(stranger);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/too many failed attempts/);

    const known = await login(cli);
    expect(known, known.stderr).toMatchObject({ code: 0, stdout: `Logged in to ${gw.url} as alice.\n` });
    // Renewed at each login.
    expect(cli.credentials().devices[gw.url]).not.toBe(device);
  });
});
