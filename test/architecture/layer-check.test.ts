/**
 * The layer check (`npm run lint:layers`: dependency-cruiser with .dependency-cruiser.cjs) must
 * fail when a rule is broken, not only pass on today's tree. A throw-away project in a temporary
 * folder breaks each rule once, next to imports the rules allow; the real config and the real
 * depcruise binary judge it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
/** The package's `bin` (its exports map hides the path from `require.resolve`). */
const depcruise = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** Each file's imports; every file exports `x` so the imports are real ones. */
const FILES: Record<string, string[]> = {
  // Allowed: composition root -> web -> shared http parts -> services -> store.
  'src/server.ts': ['./web/area.js', './http/app.js', './services.js'],
  'src/services.ts': ['./tokens/pats.js'],
  'src/web/area.ts': ['../http/body.js', '../http/errors.js', '../tokens/pats.js'],
  'src/http/body.ts': [],
  'src/http/errors.ts': ['../errors.js'],
  'src/errors.ts': [],
  'src/tokens/pats.ts': ['../store/store.js'],
  'src/store/store.ts': ['../errors.js'],
  'src/cli/commands/serve.ts': ['../../server.js'],
  'src/cli/commands/admin-store.ts': ['../../services.js'],
  // Broken, one rule each.
  'src/http/app.ts': ['../web/pages.js'],
  'src/web/pages.ts': ['../http/routes/tokens.js'],
  'src/http/routes/tokens.ts': [],
  'src/store/redis.ts': ['../tokens/pats.js'],
  'src/oauth/provider.ts': ['../web/pages.js', '../services.js'],
  'src/cli/main.ts': ['../http/body.js', '../server.js'],
  'src/signals/a.ts': ['./b.js'],
  'src/signals/b.ts': ['./a.js'],
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

let dir: string;
let result: { code: number; violations: Violation[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-layers-'));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
  for (const [file, imports] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    const lines = imports.map((path, i) => `import { x as x${i} } from '${path}';`);
    await writeFile(join(dir, file), [...lines, `export const x = [${imports.map((_, i) => `x${i}`).join(', ')}].length;`, ''].join('\n'));
  }
  const run = (outputType: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const args = [depcruise, 'src', '--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', outputType];
      execFile(process.execPath, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        done({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
      );
    });
  // `err` is what `npm run lint:layers` prints (its exit code fails `npm test`); `json` says which rule caught what.
  const [plain, json] = await Promise.all([run('err'), run('json')]);
  const report = JSON.parse(json.stdout || 'null') as { summary: { violations: Violation[] } } | null;
  if (!report) throw new Error(`depcruise gave no report: ${json.stderr}`);
  result = { code: plain.code, violations: report.summary.violations };
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const broken = (rule: string) =>
  result.violations
    .filter((v) => v.rule.name === rule)
    .map((v) => `${v.from} -> ${v.to}`)
    .sort();

describe('the layer check', () => {
  it('fails (non-zero exit) when any rule is broken', () => {
    expect(result.code).not.toBe(0);
  });

  it('refuses a cycle', () => {
    const cycles = broken('no-circular');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toMatch(/^src\/signals\/[ab]\.ts -> src\/signals\/[ab]\.ts$/);
  });

  it('refuses the store importing a service', () => {
    expect(broken('store-imports-nothing-above')).toEqual(['src/store/redis.ts -> src/tokens/pats.ts']);
  });

  it('refuses a service importing pages or the composition root', () => {
    expect(broken('services-import-no-interface')).toEqual(['src/oauth/provider.ts -> src/services.ts', 'src/oauth/provider.ts -> src/web/pages.ts']);
  });

  it('refuses the API importing pages, and pages importing the API routes', () => {
    expect(broken('http-imports-no-pages')).toEqual(['src/http/app.ts -> src/web/pages.ts']);
    expect(broken('pages-use-only-the-shared-http-parts')).toEqual(['src/web/pages.ts -> src/http/routes/tokens.ts']);
  });

  it('refuses the CLI importing server code, except `tessera serve` starting a gateway', () => {
    expect(broken('cli-imports-no-server-code')).toEqual(['src/cli/main.ts -> src/http/body.ts', 'src/cli/main.ts -> src/server.ts']);
  });

  it('flags nothing the layout allows', () => {
    const allowed = ['src/server.ts', 'src/services.ts', 'src/web/area.ts', 'src/http/errors.ts', 'src/tokens/pats.ts', 'src/store/store.ts', 'src/cli/commands/'];
    expect(result.violations.filter((v) => allowed.some((path) => v.from.startsWith(path)))).toEqual([]);
  });
});
