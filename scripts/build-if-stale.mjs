// `npm start`'s prestart: build only when the sources changed since the last build, so a second
// start costs nothing. The stamp hashes every input's path, size and mtime (a checkout of an older
// file changes it too) and is written only after a build that succeeded.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist', '.build-stamp');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/copy-assets.mjs'];

function* files(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory()) return yield [path, stat];
  for (const entry of readdirSync(path)) yield* files(join(path, entry));
}

const hash = createHash('sha256');
const inputs = INPUTS.flatMap((input) => [...files(join(ROOT, input))]).sort(([a], [b]) => (a < b ? -1 : 1));
for (const [path, stat] of inputs) hash.update(`${relative(ROOT, path)}:${stat.size}:${stat.mtimeMs}\n`);
const stamp = hash.digest('hex');

if (existsSync(join(ROOT, 'dist', 'main.js')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) {
  console.log('dist/ is up to date with src/ (no build needed)');
} else {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(STAMP, stamp);
}
