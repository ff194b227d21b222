/**
 * The CLI's everyday habits, as gh and kubectl have them: shell completion that a real bash
 * runs, limit errors in the command line's words, token ids by unique prefix, tables aligned
 * for wide characters, and colour only on a terminal (a real pseudo-terminal, via `script`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { table } from '../../src/cli/output.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser, type CliUser } from './helpers.js';

// Spawns node processes: budgets for a loaded machine; the CLI is compiled before any test's clock runs.
vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

const execFileAsync = promisify(execFile);

/** Column where each cell of `line` starts, in terminal columns. */
const starts = (line: string) => [...line.matchAll(/(?:^|  )(?=\S)/g)].map((m) => stringWidth(line.slice(0, m.index! + m[0].length)));

describe('tessera completion', () => {
  let cli: CliUser;
  beforeAll(() => {
    cli = cliUser();
  });
  afterAll(() => cli?.dispose());

  it('bash: the generated script completes commands, subcommands and flags in a real bash', async () => {
    const res = await cli.run(['completion', 'bash']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const script = join(cli.home, 'tessera.bash');
    writeFileSync(script, res.stdout);
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `source "$1"; COMP_WORDS=("\${@:2}"); COMP_CWORD=$(($# - 2)); _tessera; echo "\${COMPREPLY[*]}"`, 'bash', script, 'tessera', ...words], { encoding: 'utf8' }).trim();
    expect(complete('tok')).toBe('token');
    expect(complete('token', 'cr')).toBe('create');
    expect(complete('--server', 'http://x', 'token', 'create', '--na')).toBe('--name');
    expect(complete('user', '')).toBe('list show add set disable delete');
    expect(complete('comp')).toBe('completion');
  });

  it('zsh (through bashcompinit) and fish scripts name every command', async () => {
    const zsh = await cli.run(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef tessera\n/);
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -F _tessera tessera');
    const fish = await cli.run(['completion', 'fish']);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c tessera -n __fish_use_subcommand -a token -d 'token commands'");
    expect(fish.stdout).toMatch(/complete -c tessera -n '__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from create list describe edit revoke[a-z -]*' -a create/);
    expect(fish.stdout).toContain("complete -c tessera -n '__fish_seen_subcommand_from token; and __fish_seen_subcommand_from create' -l ttl -r");
    const unknown = await cli.run(['completion', 'tcsh']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tessera: no completion for tcsh: pick bash, zsh, fish\n/);
  });
});

describe('tables and wide characters', () => {
  it('aligns columns by terminal width, so CJK and emoji names do not push the next column', () => {
    const out = table(['NAME', 'USER', 'STATUS'], [['東京のトークン', 'admin', 'active'], ['ci', '山田', 'revoked'], ['🚀 deploy', 'bob', 'active']]);
    const lines = out.split('\n');
    expect(new Set(lines.map((l) => starts(l).join(','))).size).toBe(1);
    expect(starts(lines[0]!)).toEqual([0, 16, 23]);
  });
});

describe('tessera token: prefixes, limits, colour', () => {
  let gw: TestGateway;
  let admin: CliUser;
  const ids: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = cliUser();
    const res = await admin.run(['login', '--server', gw.url, '-u', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD });
    expect(res.code, res.stderr).toBe(0);
    for (const name of ['東京のトークン', 'ci']) {
      const created = await admin.run(['token', 'create', '--name', name, '--json']);
      expect(created.code, created.stderr).toBe(0);
      ids.push(JSON.parse(created.stdout).id);
    }
  });
  afterAll(async () => {
    admin?.dispose();
    await gw?.stop();
  });

  it('says a too-long --ttl in its own terms, with the server maximum', async () => {
    const res = await admin.run(['token', 'create', '--name', 'long', '--ttl', '400d']);
    expect(res).toMatchObject({ code: 1, stdout: '', stderr: "tessera: --ttl 400d is longer than the server's maximum of 365d\n" });
    const far = await admin.run(['token', 'create', '--name', 'far', '--expires', '2099-01-01']);
    expect(far.stderr).toBe("tessera: --expires 2099-01-01 is further away than the server's maximum token lifetime of 365d\n");
  });

  it('accepts a token id by unique prefix, and refuses an ambiguous or unknown one', async () => {
    const [first, second] = ids as [string, string];
    // Tokens of one user share the first 12 characters (the user id): 14 are needed here at least.
    let unique = 13;
    while (first.slice(0, unique) === second.slice(0, unique)) unique++;
    const described = await admin.run(['token', 'describe', first.slice(0, unique), '--json']);
    expect(described.code, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout).id).toBe(first);

    const ambiguous = await admin.run(['token', 'describe', first.slice(0, 12)]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain(`token id prefix ${first.slice(0, 12)} is ambiguous: it matches`);
    expect(ambiguous.stderr).toContain(first);
    expect(ambiguous.stderr).toContain(second);
    expect(await admin.run(['token', 'revoke', 'zzzzzz'])).toMatchObject({ code: 1, stderr: 'tessera: no token id starts with zzzzzz\n' });

    const revoked = await admin.run(['token', 'revoke', second.slice(0, unique + 2)]);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked token ${second} "ci" of admin.\n` });
  });

  it('token list: aligned with a CJK name; colour only on a terminal and never with NO_COLOR', async () => {
    const plain = await admin.run(['token', 'list', '--all']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain('\u001b[');
    const lines = plain.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((l) => starts(l).slice(0, 5).join(','))).size).toBe(1);

    // `script` gives the CLI a real pseudo-terminal as stdout. Asynchronously: the gateway it
    // calls runs in this process.
    const onTty = async (env: Record<string, string>) => {
      const { stdout } = await execFileAsync('script', ['-qec', `"${process.execPath}" "${builtCli()}" token list --all`, '/dev/null'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: admin.home, XDG_CONFIG_HOME: join(admin.home, 'config'), TERM: 'xterm', ...env },
      });
      return stdout;
    };
    const coloured = await onTty({});
    expect(coloured).toContain('\u001b[32mactive\u001b[39m');
    expect(coloured).toContain('\u001b[31mrevoked\u001b[39m');
    const ttyLines = coloured.trimEnd().split(/\r?\n/);
    expect(new Set(ttyLines.map((l) => starts(l).slice(0, 5).join(','))).size).toBe(1);
    expect(await onTty({ NO_COLOR: '1' })).not.toContain('\u001b[');
  });
});
