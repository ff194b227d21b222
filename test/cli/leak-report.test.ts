import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { builtCli, cliUser, type CliUser } from './helpers.js';

describe('tessera token report-leak', () => {
  let gw: TestGateway;
  let cli: CliUser;

  beforeAll(async () => {
    builtCli();
    gw = await startTestGateway();
    cli = cliUser();
    const login = await cli.run(['login', '--server', gw.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    expect(login.code, login.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    cli?.dispose();
    await gw?.stop();
  });

  it('revokes the tokens read from stdin, records where they were found, and never prints a secret', async () => {
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    const pat = (await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'leaky' } })).body;
    const res = await cli.run(['token', 'report-leak', '--url', 'https://ci.example.org/jobs/42', '--source', 'log'], { input: `${pat.token}\nnot-a-token\n` });
    expect(res, res.stderr).toMatchObject({ code: 0 });
    expect(res.stdout).toContain(`revoked (token ${pat.id})`);
    expect(res.stdout).toContain('is not an issued Tessera token');
    expect(res.stdout).not.toContain(pat.token);
    expect((await gw.introspect(pat.token)).body).toEqual({ active: false });
    expect((await gw.api('GET', `/api/v1/tokens/${pat.id}`, { token: admin })).body.revoked_by).toBe('leak report by admin admin: found at https://ci.example.org/jobs/42 (log)');

    const empty = await cli.run(['token', 'report-leak'], { input: '' });
    expect(empty.code).toBe(2);
  });
});
