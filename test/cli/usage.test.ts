import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { CLI_TIMEOUTS, builtCli, cliUser, type CliUser } from './helpers.js';

// Spawns node processes: budgets for a loaded machine; the CLI is compiled before any test's clock runs.
vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

describe('tessera command line: help, usage errors, exit codes', () => {
  let cli: CliUser;
  beforeAll(() => {
    cli = cliUser();
  });
  afterAll(() => cli?.dispose());

  it('is an executable node script', () => {
    expect(readFileSync(builtCli(), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('--help prints to stdout and exits 0, at every level', async () => {
    const top = await cli.run(['--help']);
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toContain('Usage: tessera <command> [flags]');
    expect(top.stdout).toMatch(/^ {2}token create +Create a personal access token/m);
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 error, 2 usage, 3 not authenticated or forbidden.');
    const group = await cli.run(['token', '--help']);
    expect(group.stdout).toMatch(/^Usage: tessera token <command>/);
    const command = await cli.run(['token', 'create', '--help']);
    expect(command.stdout).toMatch(/^Usage: tessera token create \[flags\]/);
    expect(command.stdout).toMatch(/^ {2}--ttl DURATION +lifetime/m);
    expect((await cli.run(['help', 'user', 'add'])).stdout).toMatch(/^Usage: tessera user add NAME/);
    expect(top.stdout).toMatch(/^ {2}completion +Print a shell completion script/m);
  });

  it('--version prints the package version, like gh and kubectl', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(await cli.run(['--version'])).toEqual({ code: 0, stdout: `tessera ${version}\n`, stderr: '' });
  });

  it('bad flags and arguments exit 2 with the message and the usage on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [['token', 'list', '--bogus'], /^tessera: unknown flag --bogus\n\nUsage: tessera token list/],
      [['token', 'create', '--name'], /^tessera: --name needs a value\n\nUsage: tessera token create/],
      [['whoami', '--json=yes'], /^tessera: --json does not take a value\n\nUsage: tessera whoami/],
      [['token', 'describe'], /^tessera: missing ID\.\.\.\n\nUsage: tessera token describe/],
      [['token', 'edit', 'a', 'b', '--name', 'x'], /^tessera: unexpected argument b\n/],
      [['token'], /^tessera: token needs a command\n\nUsage: tessera token <command>/],
      [['tokens', 'list'], /^tessera: unknown command "tokens"; did you mean "token"\?\nRun "tessera --help" for the list of commands\.\n$/],
      [['token', 'lsit'], /^tessera: unknown command "token lsit"; did you mean "token list"\?\nRun "tessera token --help" for the list of commands\.\n$/],
      [['token', 'frobnicate'], /^tessera: unknown command "token frobnicate"\nRun "tessera token --help" for the list of commands\.\n$/],
      [[], /^tessera: missing command\n/],
      [['login', '--token', 'x', '--sso'], /^tessera: --token cannot be combined with --sso/],
    ];
    for (const [args, stderr] of cases) {
      const res = await cli.run(args);
      expect({ args, code: res.code, stdout: res.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(res.stderr).toMatch(stderr);
    }
  });

  it('global flags may come before the command', async () => {
    const res = await cli.run(['--server', 'http://127.0.0.1:9', 'token', 'list']);
    expect(res).toMatchObject({ code: 3, stderr: 'tessera: not logged in to http://127.0.0.1:9: run tessera login\n' });
  });

  it('without a server, or unable to reach it, says so in one line', async () => {
    expect(await cli.run(['whoami'])).toMatchObject({ code: 3, stderr: 'tessera: no server chosen: run tessera login --server URL (or set TESSERA_SERVER)\n' });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await cli.run(['login', '--server', closed, '-u', 'a', '--password-stdin'], { input: 'x' });
    expect(down).toMatchObject({ code: 1, stderr: `tessera: cannot reach ${closed}: ECONNREFUSED\n` });
    expect((await cli.run(['login', '--server', 'ftp://example.com', '--token', 'x'])).code).toBe(2);
  });

  it('serve runs the gateway, as npm start does, and stops on SIGTERM', async () => {
    const config = join(cli.home, 'tessera.yaml');
    writeFileSync(config, 'server:\n  host: 127.0.0.1\n  port: 0\npasswords:\n  scryptCost: 1024\n');
    const serve = cli.start(['serve', '--config', config], { env: { TESSERA_ADMIN_PASSWORD: 'serve-admin-password' } });
    try {
      const url = /listening on (\S+)/.exec(await serve.waitFor(/listening on \S+/))![1]!;
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('serve reports a bad configuration with exit 2', async () => {
    const config = join(cli.home, 'bad.yaml');
    writeFileSync(config, 'server:\n  prot: 1\n');
    const res = await cli.run(['serve', '--config', config]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^tessera: invalid configuration:\n {2}- server\.prot: unknown key/m);
  });
});
