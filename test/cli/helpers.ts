/**
 * Runs the built `tessera` binary as a child process, the way users run it. The CLI is compiled
 * with tsc once per change of the sources into `.tessera-test/cli-build/<stamp>/` rather than
 * `dist/`, so someone's `npm run build` never swaps files under a running test: one test file
 * builds into a temporary directory renamed into place, the others wait for it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILDS = join(ROOT, '.tessera-test', 'cli-build');

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Changes whenever a source file or the compiler settings change. */
function sourceStamp(): string {
  const hash = createHash('sha256');
  for (const path of [...files(join(ROOT, 'src')), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json')].sort()) {
    const stat = statSync(path, { throwIfNoEntry: false }); // others may be deleting files right now
    if (stat) hash.update(`${relative(ROOT, path)}:${stat.mtimeMs}:${stat.size}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The same tsc and tsconfig as `npm run build`. `--noCheck` emits the same files in half the
 * time: type checking is `npx tsc --noEmit`'s job, and some other part of src/ may be mid-edit.
 */
function compile(dir: string): void {
  const temp = `${dir}.${process.pid}.tmp`;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', temp, '--sourceMap', 'false', '--noCheck'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    // tsc still emits past a syntax error elsewhere in src/; only a missing CLI is fatal here.
    if (!existsSync(join(temp, 'cli', 'main.js'))) throw err;
  }
  // tsc copies no assets, but the web pages read theirs (src/web/static) beside their module.
  cpSync(join(ROOT, 'src'), temp, { recursive: true, filter: (path) => !path.endsWith('.ts') });
  renameSync(temp, dir);
}

let built: string | undefined;

/** Path of the compiled `cli/main.js`, building it when the sources changed. */
export function builtCli(): string {
  if (built) return built;
  const dir = join(BUILDS, sourceStamp());
  const main = join(dir, 'cli', 'main.js');
  const lock = `${dir}.lock`;
  mkdirSync(BUILDS, { recursive: true });
  // One test file compiles; the others, started at the same moment, wait for its result.
  for (const deadline = Date.now() + 120_000; !existsSync(main); sleepSync(100)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
    try {
      mkdirSync(lock);
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true }); // a test run killed mid-build
      continue;
    }
    try {
      if (!existsSync(main)) compile(dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  for (const old of readdirSync(BUILDS)) {
    const path = join(BUILDS, old);
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (path !== dir && !old.endsWith('.lock') && age > 600_000) rmSync(path, { recursive: true, force: true }); // no test run takes 10 minutes
  }
  built = main;
  return main;
}

/**
 * Budgets for tests that spawn the CLI (and often a gateway, a browser flow, a second process):
 * sized for a 2-core machine at load 10, where one `node` start alone can take seconds. Compiling
 * the CLI belongs in a hook with the build budget, never inside a test's own time.
 */
export const CLI_TIMEOUTS = { testTimeout: 90_000, hookTimeout: 240_000 } as const;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A CLI process left running: for `serve`, or a login waiting on a browser. */
export interface RunningCli {
  /** Resolves with all output so far once `pattern` shows up on stdout or stderr. */
  waitFor(pattern: RegExp): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface CliUser {
  /** Its own HOME and XDG_CONFIG_HOME: credentials never leak between tests. */
  home: string;
  credentialsFile: string;
  run(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<CliResult>;
  start(args: string[], options?: { env?: Record<string, string> }): RunningCli;
  credentials(): any;
  dispose(): void;
}

/** A person at a (non-TTY) shell with an empty config directory. */
export function cliUser(): CliUser {
  const main = builtCli();
  const home = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  const configHome = join(home, 'config');
  const credentialsFile = join(configHome, 'tessera', 'credentials.json');
  // Only what the CLI needs: a TESSERA_TOKEN in the developer's shell must not leak in.
  const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: configHome, ...extra });
  return {
    home,
    credentialsFile,
    credentials: () => JSON.parse(readFileSync(credentialsFile, 'utf8')),
    dispose: () => rmSync(home, { recursive: true, force: true }),
    run(args, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [main, ...args], { env: env(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(options.input ?? '');
      });
    },
    start(args, options = {}) {
      const child = spawn(process.execPath, [main, ...args], { env: env(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const waiting = new Set<() => void>();
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (chunk) => {
          output += chunk;
          for (const check of waiting) check();
        });
      }
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return {
        waitFor: (pattern) =>
          new Promise((resolve, reject) => {
            const check = () => {
              if (!pattern.test(output)) return;
              waiting.delete(check);
              resolve(output);
            };
            waiting.add(check);
            void exited.then((code) => reject(new Error(`exited ${code} before printing ${pattern}: ${output}`)));
            check();
          }),
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      };
    },
  };
}
