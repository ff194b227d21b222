import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCiIssuer } from '../helpers/fake-ci-issuer.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { builtCli, cliUser, type CliUser } from './helpers.js';

describe('tessera login --oidc-token-file / --oidc-token-env (inside a CI job)', () => {
  let ci: FakeCiIssuer;
  let gw: TestGateway;
  const users: CliUser[] = [];
  const newUser = () => {
    const user = cliUser();
    users.push(user);
    return user;
  };
  const jobToken = (repository = 'acme/models') => ci.token({ repository, aud: 'https://tessera.test' }, { now: gw.clock.now });

  beforeAll(async () => {
    builtCli();
    ci = await new FakeCiIssuer().start();
    gw = await startTestGateway({
      config: {
        workloadIdentity: {
          issuers: [{ issuer: ci.url, audience: 'https://tessera.test', rules: [{ name: 'models ci', claims: { repository: 'acme/models' }, user: 'svc-ci', scopes: ['read', 'write'] }] }],
        },
      },
    });
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'svc-ci', password: 'service-password-1' } });
  }, 180_000);
  afterAll(async () => {
    for (const user of users) user.dispose();
    await gw?.stop();
    await ci?.stop();
  });

  it('exchanges the job token from a file, stores the short-lived token, and whoami shows the service user', async () => {
    const cli = newUser();
    const file = join(mkdtempSync(join(tmpdir(), 'tessera-oidc-')), 'token');
    writeFileSync(file, `${await jobToken()}\n`);
    const res = await cli.run(['login', '--server', gw.url, '--oidc-token-file', file]);
    expect(res, res.stderr).toMatchObject({ code: 0 });
    expect(res.stdout).toMatch(/^Logged in to .* as svc-ci \(workload token \S+, scopes read write, expires in 15 min\)\.$/m);
    expect(cli.credentials().servers[gw.url]).toMatchObject({ kind: 'pat', username: 'svc-ci', token: expect.stringMatching(/^tsr_/) });
    const whoami = await cli.run(['whoami']);
    expect(whoami.stdout).toMatch(/^Scopes: +read write$/m);
  });

  it('takes the token from an environment variable, may narrow the scope, and reports a refusal with its reason', async () => {
    const cli = newUser();
    const ok = await cli.run(['login', '--server', gw.url, '--oidc-token-env', 'CI_JOB_JWT', '--scope', 'read'], { env: { CI_JOB_JWT: await jobToken() } });
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('scopes read,');

    const refused = await newUser().run(['login', '--server', gw.url, '--oidc-token-env', 'CI_JOB_JWT'], { env: { CI_JOB_JWT: await jobToken('evil/fork') } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no workload rule of this issuer matches');

    const unset = await newUser().run(['login', '--server', gw.url, '--oidc-token-env', 'NOT_SET']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('NOT_SET is not set');
    const mixed = await newUser().run(['login', '--server', gw.url, '--oidc-token-env', 'X', '--sso']);
    expect(mixed.code).toBe(2);
  });
});
