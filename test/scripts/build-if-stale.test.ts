/**
 * `npm start`'s prestart (scripts/build-if-stale.mjs) builds only when an input changed since the
 * last successful build. Run on a scratch project whose `build` script only records that it ran,
 * so the test checks the decision without paying for tsc.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-if-stale.mjs', import.meta.url));

describe('scripts/build-if-stale.mjs', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-build-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'src'));
  cpSync(SCRIPT, join(root, 'scripts', 'build-if-stale.mjs'));
  writeFileSync(join(root, 'src', 'main.ts'), 'export {};\n');
  writeFileSync(join(root, 'make.mjs'), "import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('dist', { recursive: true });\nwriteFileSync('dist/main.js', '');\nappendFileSync('builds.log', 'built\\n');\n");
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'scratch', private: true, scripts: { build: 'node make.mjs' } }));
  const prestart = () => execFileSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { cwd: root, encoding: 'utf8' });
  const builds = () => readFileSync(join(root, 'builds.log'), 'utf8').split('\n').filter(Boolean).length;

  it('builds the first time, not again while nothing changed, and again after a change to src/', () => {
    prestart();
    expect(builds()).toBe(1);
    expect(prestart()).toContain('dist/ is up to date with src/ (no build needed)');
    expect(builds()).toBe(1);

    writeFileSync(join(root, 'src', 'main.ts'), 'export const changed = 1;\n');
    prestart();
    expect(builds()).toBe(2);
    // A checkout of an older version of a file (same size, older mtime) counts as a change too.
    utimesSync(join(root, 'src', 'main.ts'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    prestart();
    expect(builds()).toBe(3);
    // A deleted dist/ is rebuilt whatever the stamp says.
    rmSync(join(root, 'dist', 'main.js'));
    prestart();
    expect(builds()).toBe(4);
  });
});
