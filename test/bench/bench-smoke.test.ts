/**
 * The benchmarks run end to end at their smallest (one short round of two cheap cases; a
 * thousand tokens), so a change to the gateway or the store that breaks them shows up here and
 * not on the day someone wants numbers. Nothing here is timed: only that they run, report and
 * clean up after themselves.
 */
import { execFile } from 'node:child_process';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** Runs `node <script>` from the repository root; resolves whatever the exit code. */
async function node(script: string, env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? String(error) };
  }
}

/** Whether anything still accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
  });
}

const privateRedisPort = (out: string): number => Number(/private redis-server .*redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);

describe('benchmarks (smoke)', () => {
  // The benches import the built gateway (dist/); build it if src/ changed since the last build.
  beforeAll(async () => {
    await run(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, timeout: 300_000 });
  }, 300_000);

  it('bench/introspection.mjs: one round of two cases prints per-round and median ratios, exits 0 and stops its redis-server', async () => {
    const { code, out, err } = await node('bench/introspection.mjs', { BENCH_ROUNDS: '1', BENCH_DURATION: '1', BENCH_WARMUP: '0', BENCH_CASES: 'koa,koa-get' });
    expect(code, err).toBe(0);
    expect(out).toMatch(/^round 1: koa [\d,]+\/s, koa-get [\d,]+\/s \| ratios: koa-get\/koa \d+\.\d\dx/m);
    expect(out).toMatch(/^ {2}ratio koa-get\/koa: median \d+\.\d\dx \(rounds: \d+\.\d\dx\)$/m);
    expect(out).toMatch(/^\| Koa \+ ioredis GET +\| +[\d,]+ \|/m);
    const port = privateRedisPort(out);
    expect(port).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);
  }, 150_000);

  it('bench/introspection.mjs: the check floor answers the PAT as active and is compared with one GET, with no goal', async () => {
    const { code, out, err } = await node('bench/introspection.mjs', { BENCH_ROUNDS: '1', BENCH_DURATION: '1', BENCH_WARMUP: '0', BENCH_CASES: 'koa-get,floor' });
    expect(code, err).toBe(0);
    expect(out).toMatch(/^\| check floor \(Koa \+ PatService\.verify\) +\| +[\d,]+ \|/m);
    // About one check script per request (requests still in flight at the end count on Redis's
    // side only): the floor runs the gateway's real check, not a stand-in.
    expect(out).toMatch(/^\| check floor [^\n]*\| +1\.\d\d \| +[\d.]+ \|$/m);
    expect(out).toMatch(/^ {2}ratio floor\/koa-get: median \d+\.\d\dx \(rounds: \d+\.\d\dx\)/m);
  }, 150_000);

  it('bench/introspection.mjs refuses an unknown case, naming the known ones, and exits non-zero', async () => {
    const { code, err } = await node('bench/introspection.mjs', { BENCH_CASES: 'koa,no-such-case' });
    expect(code).toBe(1);
    expect(err).toContain('unknown case(s) no-such-case; known: koa, koa-get, floor, oidc, introspect, memory, verify, provider, login, create');
  });

  it('bench/scale.mjs: a thousand tokens through the store, memory per token, AOF per check, the heavy user and the longest Redis call', async () => {
    const { code, out, err } = await node('bench/scale.mjs', { BENCH_SCALE_COUNTS: '1000', BENCH_SCALE_RETAINED: '200', BENCH_SCALE_ACTIVE: '100', BENCH_SCALE_AOF_CHECKS: '2000' });
    expect(code, err).toBe(0);
    expect(out).toMatch(/^1000 tokens: loaded in [\d.]+ s \(\d+\/s\), \d+ B of Redis memory per token \(\d+ B once each was checked\); useToken random \d+\/s vs hot \d+\/s/m);
    expect(out).toMatch(/^AOF, lastUsedPrecision 0s: [\d.]+ B per check/m);
    expect(out).toMatch(/^AOF, lastUsedPrecision 60s: [\d.]+ B per check/m);
    expect(out).toContain('heavy user: 100 active + 200 retained records');
    expect(out).toMatch(/^heavy user: longest single Redis call over list, create, revoke and check: \d+ µs \(\w+ during [\w ,()-]+\)$/m);
    // Per operation: client median, script median / longest, calls per operation, calls over 1 ms.
    for (const op of ['first creates after expiry', 'first pages after expiry', 'first page', 'later pages (active)', 'later pages (revoked,expired)', 'later pages (revoked)', 'create evicting at the limit', 'revoke', 'revoke-all of 100']) {
      const escaped = op.replace(/[()]/g, '\\$&');
      expect(out).toMatch(new RegExp(`^  ${escaped} +[\\d.]+ ms  script +\\d+ µs / +\\d+ µs +[\\d.]+ calls/op +\\d+ of \\d+ calls > 1 ms`, 'm'));
    }
    expect(out).toMatch(/^goal: no single user's call \(all but revoke-all\) holds Redis more than 1 ms: longest \d+ µs \(.+\), \d+ of \d+ script calls over 1 ms: (met|NOT met)$/m);
    const port = Number(/private redis-server at redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);
  }, 150_000);
});
