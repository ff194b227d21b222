#!/usr/bin/env node
/**
 * Store-level scale benchmark on a throwaway redis-server (AOF on, as the README recommends):
 *
 *   npm run bench:scale            (= npm run build && node bench/scale.mjs)
 *   BENCH_SCALE_SIZES=10000,100000,1000000 node bench/scale.mjs
 *   BENCH_DIST=/path/to/older/dist node bench/scale.mjs     (the same run against another build)
 *
 * Everything is loaded through the store code (`RedisStore.insertToken`, `revokeToken`,
 * `useToken`), never as hand-written records, and measured on the store's own calls (no HTTP):
 *   1. per size: Redis memory per token (used_memory delta / tokens, user records included at
 *      one user per 50 tokens), useToken rate on random tokens vs one hot token;
 *   2. AOF bytes per check: aof_current_size growth over repeated checks of the same tokens from
 *      the same IPs, with every check written (lastUsedPrecision 0, the old behaviour) and with
 *      the default precision (60 s);
 *   3. one heavy user holding 1,000 active + 10,000 retained (revoked) records: create, revoke,
 *      first page of the list, the full list, and the longest single Redis call (SLOWLOG).
 * Timings are medians of repeated calls on a shared machine: compare within one run.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const DIST = process.env.BENCH_DIST ? pathToFileURL(process.env.BENCH_DIST + '/').href : new URL('../dist/', import.meta.url).href;
const SIZES = (process.env.BENCH_SCALE_SIZES || '10000,100000').split(',').map(Number);
const DAY = 86_400_000;
const { RedisStore } = await import(new URL('store/redis/redis-store.js', DIST).href);
const { Redis } = await import('ioredis');

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'no', '--dir', dir, '--auto-aof-rewrite-percentage', '0'], { stdio: 'ignore' });
const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
admin.on('error', () => {});
// Whatever happens, the throwaway server goes with this process.
process.on('exit', () => server.kill('SIGKILL'));
for (let i = 0; ; i++) {
  try {
    await admin.connect();
    break;
  } catch {
    if (i > 50) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
    admin.disconnect();
  }
}

const info = async (section, field) => Number((await admin.info(section)).match(new RegExp(`^${field}:(\\S+)`, 'm'))[1]);
const base62 = (n) => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n).padEnd(n, 'x');
const hex = () => randomBytes(32).toString('hex');
const median = (xs) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[Math.floor(xs.length / 2)];
const ms = (ns) => (Number(ns) / 1e6).toFixed(2);

function openStore(prefix, precision) {
  return RedisStore.connect({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, auditRetentionMs: 30 * DAY, lastUsedPrecisionMs: precision, commandTimeoutMs: 30_000 });
}

const user = (now) => ({ id: base62(12), username: `u-${base62(12)}`, displayName: 'Bench', email: 'b@example.org', role: 'normal', enabled: true, source: 'local', groups: [], createdAt: now, updatedAt: now, sessionsNotBefore: 0 });
const token = (userId, now) => ({ id: base62(16), userId, name: 'bench token', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + 30 * DAY, createdBy: 'bench', hash: hex() });

/** Runs `fn(i)` for i < n with `width` in flight. */
async function parallel(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function rate(n, fn) {
  const start = process.hrtime.bigint();
  await parallel(n, 32, fn);
  return Math.round(n / (Number(process.hrtime.bigint() - start) / 1e9));
}

const out = [];
const line = (s) => { out.push(s); console.log(s); };
line(`bench:scale ${new Date().toISOString()} load ${loadavg().map((l) => l.toFixed(1)).join(' ')} dist ${process.env.BENCH_DIST || 'dist'}`);

// ---- 1. memory per token, random vs hot ------------------------------------------------------
for (const size of SIZES) {
  await admin.flushall();
  const store = openStore('s:', 60_000);
  const now = Date.now();
  const before = await info('memory', 'used_memory');
  const tokens = [];
  const users = [];
  for (let i = 0; i < size / 50; i++) users.push(user(now));
  await parallel(users.length, 32, (i) => store.createUser(users[i]));
  const loadStart = process.hrtime.bigint();
  await parallel(size, 64, async (i) => {
    const t = token(users[i % users.length].id, now);
    await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
    tokens.push(t);
  });
  const loadSecs = Number(process.hrtime.bigint() - loadStart) / 1e9;
  const bytes = ((await info('memory', 'used_memory')) - before) / size;
  const checks = Math.min(size, 50_000);
  const pick = () => tokens[Math.floor(Math.random() * tokens.length)];
  // Warm: every token picked has been used once from this IP (as in steady state).
  const randomRate = await rate(checks, async () => {
    const t = pick();
    if (!(await store.useToken(t.userId, t.hash, now + 1000, '10.0.0.1'))) throw new Error('inactive');
  });
  const hot = tokens[0];
  const hotRate = await rate(checks, async () => {
    if (!(await store.useToken(hot.userId, hot.hash, now + 1000, '10.0.0.1'))) throw new Error('inactive');
  });
  line(`${size} tokens: loaded at ${Math.round(size / loadSecs)}/s, ${Math.round(bytes)} B of Redis memory per token; useToken random ${randomRate}/s, hot ${hotRate}/s`);
  await store.close();
}

// ---- 2. AOF bytes per check --------------------------------------------------------------------
for (const precision of [0, 60_000]) {
  await admin.flushall();
  await admin.bgrewriteaof();
  await new Promise((r) => setTimeout(r, 500));
  const store = openStore('a:', precision);
  const now = Date.now();
  const u = user(now);
  await store.createUser(u);
  const tokens = [];
  for (let i = 0; i < 100; i++) {
    const t = token(u.id, now);
    await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
    tokens.push(t);
  }
  const checks = 20_000;
  const start = await info('persistence', 'aof_current_size');
  // 20k checks over 20 s of injected time: 100 tokens, each always from its own IP.
  await parallel(checks, 16, async (i) => {
    const t = tokens[i % 100];
    await store.useToken(u.id, t.hash, now + i, `10.0.${i % 2}.${i % 100}`);
  });
  await new Promise((r) => setTimeout(r, 1500)); // appendfsync no: let the AOF buffer reach the file size
  const grown = (await info('persistence', 'aof_current_size')) - start;
  line(`AOF, lastUsedPrecision ${precision / 1000}s: ${(grown / checks).toFixed(1)} B per check (${checks} checks, 100 tokens, each from one IP)`);
  await store.close();
}

// ---- 3. one user with 1,000 active + 10,000 retained ------------------------------------------
{
  await admin.flushall();
  const store = openStore('h:', 60_000);
  const now = Date.now();
  const u = user(now);
  await store.createUser(u);
  const limit = { max: 2000, onLimit: 'refuse' };
  const retained = Number(process.env.BENCH_SCALE_RETAINED || 10_000);
  // A CI user's history: created and revoked one by one, then 1,000 live ones.
  for (let i = 0; i < retained; i++) {
    const t = token(u.id, now + i);
    await store.insertToken(t, limit, now + i);
    await store.revokeToken(u.id, t.id, 'bench', now + i);
  }
  const live = [];
  for (let i = 0; i < 1000; i++) {
    const t = token(u.id, now + retained + i);
    await store.insertToken(t, limit, now + retained + i);
    live.push(t);
  }
  const t1 = now + retained + 2000;
  const listed = await store.listTokens(u.id, t1); // also completes any lazy migration
  line(`heavy user: ${listed.filter((t) => !t.revokedAt).length} active + ${listed.filter((t) => t.revokedAt).length} retained records`);
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.config('SET', 'slowlog-max-len', '100000');
  await admin.slowlog('RESET');
  /** Median client-side ms of n calls, and the longest single Redis command among them (SLOWLOG, µs). */
  const timed = async (n, fn) => {
    await admin.slowlog('RESET');
    const xs = [];
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      await fn(i);
      xs.push(process.hrtime.bigint() - s);
    }
    const log = await admin.slowlog('GET', 100000);
    const redis = log.filter(([, , , args]) => !/^(slowlog|info|config)$/i.test(String(args[0]))).map(([, , micros]) => Number(micros));
    // Only the longest: SLOWLOG also holds the MULTI/EXEC/WAIT around replicated writes.
    return `${ms(median(xs))} ms (longest Redis command ${Math.max(...redis)} µs)`;
  };
  const paged = typeof store.listTokenPage === 'function';
  const page = paged ? await timed(30, () => store.listTokenPage(u.id, { limit: 50, include: { revoked: false, expired: false } }, t1)) : 'n/a';
  const retainedPage = paged ? await timed(30, () => store.listTokenPage(u.id, { limit: 50, include: { revoked: true, expired: true }, cursor: `r.0.0` }, t1)) : 'n/a';
  const full = await timed(5, () => store.listTokens(u.id, t1));
  const create = await timed(30, () => store.insertToken(token(u.id, t1), { max: 1000, onLimit: 'evict' }, t1));
  const revoke = await timed(30, (i) => store.revokeToken(u.id, live[500 + i].id, 'bench', t1));
  const check = await timed(200, () => store.useToken(u.id, live[0].hash, t1, '10.0.0.1'));
  line(`heavy user, median of calls: list page of 50 active ${page}; page of 50 retained ${retainedPage}; full list (every record, O(all)) ${full}; create evicting at 1,000 ${create}; revoke ${revoke}; useToken ${check}`);
  await store.close();
}

await admin.shutdown('NOSAVE').catch(() => {});
await once(server, 'exit');
rmSync(dir, { recursive: true, force: true });
