import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser, type CliUser } from './helpers.js';

const MINUTE = 60_000;

// Spawns node processes: budgets for a loaded machine; the CLI is compiled before any test's clock runs.
vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

describe('tessera login, whoami, logout and the stored session', () => {
  let gw: TestGateway;
  const users: CliUser[] = [];
  const newUser = () => {
    const user = cliUser();
    users.push(user);
    return user;
  };
  const loginAdmin = async (cli: CliUser) => {
    const res = await cli.run(['login', '--server', gw.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    expect(res, res.stderr).toMatchObject({ code: 0, stdout: `Logged in to ${gw.url} as admin.\n` });
  };

  beforeAll(async () => {
    gw = await startTestGateway();
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: 'alice-password' } });
  });
  afterAll(async () => {
    for (const user of users) user.dispose();
    await gw?.stop();
  });

  it('logs in with --password-stdin, keeps the session in a 0600 file in a 0700 directory, and whoami answers', async () => {
    const cli = newUser();
    await loginAdmin(cli);
    expect(statSync(cli.credentialsFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(cli.credentialsFile)).mode & 0o777).toBe(0o700);
    const stored = cli.credentials();
    expect(stored.current).toBe(gw.url);
    expect(stored.servers[gw.url]).toMatchObject({ kind: 'session', username: 'admin', access_token: expect.stringMatching(/^tsa_/), refresh_token: expect.stringMatching(/^tsrt_/) });

    const whoami = await cli.run(['whoami']);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/^User: +admin$/m);
    expect(whoami.stdout).toMatch(/^Credential: +login session$/m);
    const json = await cli.run(['whoami', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ username: 'admin', role: 'admin', authenticated_with: 'login' });
  });

  it('refuses a wrong password with exit 3, and asks for --password-stdin when stdin is not a terminal', async () => {
    const cli = newUser();
    const wrong = await cli.run(['login', '--server', gw.url, '-u', 'admin', '--password-stdin'], { input: 'not-the-password' });
    expect(wrong).toMatchObject({ code: 3, stdout: '' });
    expect(wrong.stderr).toBe('tessera: invalid username or password\n');
    const noTty = await cli.run(['login', '--server', gw.url, '-u', 'admin']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/^tessera: give --password-stdin/);
  });

  it('renews an expired access token with the refresh token and retries (the clock moves 6 minutes)', async () => {
    const cli = newUser();
    await loginAdmin(cli);
    const before = cli.credentials().servers[gw.url];
    gw.clock.advance(6 * MINUTE);
    const list = await cli.run(['token', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ tokens: [] });
    const after = cli.credentials().servers[gw.url];
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.access_token).not.toBe(before.access_token);
    expect(statSync(cli.credentialsFile).mode & 0o777).toBe(0o600);
  });

  it('lets parallel commands share one refresh: the rotated refresh token is never presented twice', async () => {
    const cli = newUser();
    await loginAdmin(cli);
    gw.clock.advance(6 * MINUTE);
    const runs = await Promise.all([1, 2, 3, 4].map(() => cli.run(['whoami'])));
    expect(runs.map((r) => r.code), runs.map((r) => r.stderr).join('')).toEqual([0, 0, 0, 0]);
    // Reuse of a rotated refresh token would have revoked the whole login.
    expect((await cli.run(['whoami'])).code).toBe(0);
  });

  it('says "session expired: run tessera login" (exit 3) once the refresh token is over too', async () => {
    const cli = newUser();
    await loginAdmin(cli);
    gw.clock.advance(31 * 24 * 60 * MINUTE);
    const res = await cli.run(['whoami']);
    expect(res).toMatchObject({ code: 3, stdout: '', stderr: 'tessera: session expired: run tessera login\n' });
  });

  it('logout ends the session on the gateway and forgets it', async () => {
    const cli = newUser();
    await loginAdmin(cli);
    const { refresh_token } = cli.credentials().servers[gw.url];
    const out = await cli.run(['logout']);
    expect(out).toMatchObject({ code: 0, stdout: `Logged out of ${gw.url}.\n` });
    expect(cli.credentials().servers).toEqual({});
    expect((await gw.api('POST', '/api/v1/login/refresh', { body: { refresh_token } })).status).toBe(400);
    const after = await cli.run(['whoami']);
    expect(after).toMatchObject({ code: 3, stderr: `tessera: not logged in to ${gw.url}: run tessera login\n` });
  });

  it('logs in with a personal access token (--token, or "-" for stdin)', async () => {
    const pat = await gw.personalToken('alice', 'alice-password');
    const cli = newUser();
    const res = await cli.run(['login', '--server', gw.url, '--token', pat]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Logged in to .* as alice \(personal access token \w+\)\.$/m);
    expect(cli.credentials().servers[gw.url]).toMatchObject({ kind: 'pat', username: 'alice', token: pat });
    expect(JSON.parse((await cli.run(['whoami', '--json'])).stdout)).toMatchObject({ username: 'alice', authenticated_with: 'personal_access_token' });

    const viaStdin = newUser();
    expect((await viaStdin.run(['login', '--server', gw.url, '--token', '-'], { input: `${pat}\n` })).code).toBe(0);
    const bad = await newUser().run(['login', '--server', gw.url, '--token', 'tsr_not-a-real-token']);
    expect(bad.code).toBe(3);
  });

  it('TESSERA_TOKEN overrides the stored credentials for any command, and TESSERA_SERVER picks the server', async () => {
    const pat = await gw.personalToken('alice', 'alice-password');
    const cli = newUser();
    await loginAdmin(cli);
    const whoami = await cli.run(['whoami', '--json'], { env: { TESSERA_TOKEN: pat } });
    expect(JSON.parse(whoami.stdout)).toMatchObject({ username: 'alice', authenticated_with: 'personal_access_token' });

    const fresh = newUser();
    const viaEnv = await fresh.run(['whoami'], { env: { TESSERA_TOKEN: pat, TESSERA_SERVER: gw.url } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toMatch(/\(from TESSERA_TOKEN\)/);
    const revoked = await fresh.run(['whoami'], { env: { TESSERA_TOKEN: 'tsr_revoked-or-made-up', TESSERA_SERVER: gw.url } });
    expect(revoked).toMatchObject({ code: 3, stderr: expect.stringMatching(/^tessera: the token in TESSERA_TOKEN is invalid/) });
  });

  it('login --sso: device flow approved in the browser pages, then the CLI works as that user', async () => {
    // The OpenID Provider's endpoints live at the issuer URL: this gateway's must be reachable.
    const op = await startTestGateway({ reachableIssuer: true });
    const user = newUser();
    const login = user.start(['login', '--server', op.url, '--sso']);
    try {
      const output = await login.waitFor(/Waiting for approval/);
      const match = new RegExp(`^To log in, open (${op.url}/\\S+) in a browser and enter the code (\\S+)$`, 'm').exec(output);
      expect(match).not.toBeNull();
      const [, verificationUrl, userCode] = match!;

      // A person approves in the browser: enter the code, confirm, sign in.
      const browser = new CookieBrowser();
      let page = await browser.get(verificationUrl!);
      const input = formFields(page.text, 'op.deviceInputForm');
      page = await browser.post(new URL(input.action, op.url).toString(), { ...input.fields, user_code: userCode! });
      const confirm = formFields(page.text, 'op.deviceConfirmForm');
      page = await browser.follow(await browser.post(new URL(confirm.action, op.url).toString(), confirm.fields), op.url);
      const signIn = formFields(page.text, '/login');
      page = await browser.follow(await browser.post(op.url + signIn.action, { username: 'admin', password: ADMIN_PASSWORD }), op.url);
      expect(page.text).toContain('Device connected');

      await login.waitFor(/Logged in to .* as admin/);
      const whoami = await user.run(['whoami', '--server', op.url]);
      expect(whoami.code).toBe(0);
      expect(whoami.stdout).toContain('admin');
      // An SSO session has no token id: whoami names the kind of credential, never "null".
      expect(whoami.stdout).toMatch(/^Credential: +SSO login session \(device flow\)$/m);
      expect(whoami.stdout).not.toContain('null');
      const created = await user.run(['token', 'create', '--server', op.url, '--name', 'after-sso', '--quiet']);
      expect(created.code).toBe(0);
      expect((await op.introspect(created.stdout.trim())).body).toMatchObject({ active: true, username: 'admin' });
    } finally {
      await login.stop();
      await op.stop();
    }
  });
});
