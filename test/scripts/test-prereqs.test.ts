/**
 * `npm test` starts with scripts/test-prereqs.sh. On a machine that lacks a part (simulated: a
 * PATH without ldap-utils, TESSERA_SLAPD and TESSERA_CHROMIUM naming files that do not exist,
 * installing turned off as for a user without root or sudo) it stops at once and prints the
 * exact install command, instead of failing deep inside the suite.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-prereqs.sh', import.meta.url));
const which = (name: string) => spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();

describe('scripts/test-prereqs.sh', () => {
  const bin = mkdtempSync(join(tmpdir(), 'tessera-prereqs-'));
  // Everything the script itself uses, and the parts present; ldapadd left out on purpose.
  for (const name of ['bash', 'id', 'seq', 'sleep', 'redis-server', 'redis-cli', 'openssl']) symlinkSync(which(name), join(bin, name));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('names what is missing and the exact apt-get command, and exits 1 without installing', () => {
    const result = spawnSync(join(bin, 'bash'), [SCRIPT], {
      encoding: 'utf8',
      env: { PATH: bin, TESSERA_PREREQS_INSTALL: 'no', TESSERA_SLAPD: '/nowhere/slapd', TESSERA_CHROMIUM: '/nowhere/chromium' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the tests need slapd ldap-utils chromium, which this machine lacks');
    expect(result.stderr).toContain('sudo apt-get update && sudo apt-get install -y --no-install-recommends slapd ldap-utils chromium');
    expect(result.stderr).toContain('TESSERA_CHROMIUM=/nowhere/chromium is not an executable file');
    expect(result.stderr).toContain('TESSERA_SLAPD=/nowhere/slapd is not an executable file');
    expect(result.stdout).not.toContain('installing');
  });

  it('passes on this machine, where every part is present', () => {
    const result = spawnSync('bash', [SCRIPT], { encoding: 'utf8', env: { ...process.env, TESSERA_PREREQS_INSTALL: 'no' } });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('are ready');
  });
});
