#!/usr/bin/env node
/**
 * Store-level scale benchmark on a throwaway redis-server (free port, no persistence while loading):
 *
 *   npm run bench:scale                                  (= npm run build && node bench/scale.mjs)
 *   BENCH_SCALE_MAX=1000000 npm run bench:scale          (10k, 100k and 1M tokens)
 *   BENCH_SCALE_COUNTS=1000 BENCH_SCALE_RETAINED=500 node bench/scale.mjs   (a quick smoke run)
 *   BENCH_DIST=/path/to/older/dist node bench/scale.mjs  (the same run against another build)
 *
 * Everything is loaded through the store code (`RedisStore.insertToken`, `revokeToken`,
 * `useToken`: the real insert path, many calls in flight so ioredis pipelines them), never as
 * hand-written records, and measured on the store's own calls (no HTTP):
 *   1. per count: Redis memory per token (used_memory growth over the token load / tokens; the
 *      users, one per 50 tokens, are created before and not counted), useToken rate on random
 *      tokens (a uniform sample across all of them) vs one hot token;
 *   2. AOF bytes per check (AOF switched on for this phase only): aof_current_size growth over
 *      repeated checks of the same tokens from the same IPs, with every check written
 *      (lastUsedPrecision 0) and with the default precision (60 s);
 *   3. one heavy user holding 1,000 active + 10,000 retained (revoked) records: create, revoke,
 *      a page of the list, the full list, and the longest single Redis call (SLOWLOG with
 *      slowlog-log-slower-than 0, reset around each measured call kind).
 * Timings are medians of repeated calls on a shared machine: compare within one run.
 *
 * Counts: BENCH_SCALE_COUNTS (comma list; BENCH_SCALE_SIZES is the old name), else 10k, 100k and
 * 1M up to BENCH_SCALE_MAX (default 100000: 1M takes several minutes, see bench/README.md).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { startPrivateRedis } from './private-redis.mjs';

const DIST = process.env.BENCH_DIST ? pathToFileURL(process.env.BENCH_DIST + '/').href : new URL('../dist/', import.meta.url).href;
function counts() {
  const listed = process.env.BENCH_SCALE_COUNTS || process.env.BENCH_SCALE_SIZES;
  const max = Number(process.env.BENCH_SCALE_MAX || 100_000);
  const list = listed ? listed.split(',').map(Number) : [10_000, 100_000, 1_000_000].filter((n) => n <= max);
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 50)) {
    console.error(`bench:scale: token counts must be integers >= 50, got ${JSON.stringify(listed ?? `BENCH_SCALE_MAX=${process.env.BENCH_SCALE_MAX}`)}`);
    process.exit(2);
  }
  return list;
}
const SIZES = counts();
const RETAINED = Number(process.env.BENCH_SCALE_RETAINED || 10_000);
const ACTIVE = Number(process.env.BENCH_SCALE_ACTIVE || 1_000);
const AOF_CHECKS = Math.max(100, Number(process.env.BENCH_SCALE_AOF_CHECKS || 20_000));
const DAY = 86_400_000;
const { RedisStore } = await import(new URL('store/redis/redis-store.js', DIST).href);

const redis = await startPrivateRedis({ name: 'tessera-scale', appendonly: 'no', appendfsync: 'no' });
const { port, admin } = redis;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

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
line(`bench:scale ${new Date().toISOString()} load ${loadavg().map((l) => l.toFixed(1)).join(' ')} dist ${process.env.BENCH_DIST || 'dist'}; token counts ${SIZES.join(', ')}; private redis-server at redis://127.0.0.1:${port}`);

// ---- 1. memory per token, random vs hot ------------------------------------------------------
for (const size of SIZES) {
  await admin.flushall();
  const store = openStore('s:', 60_000);
  const now = Date.now();
  const users = [];
  for (let i = 0; i < Math.ceil(size / 50); i++) users.push(user(now));
  await parallel(users.length, 32, (i) => store.createUser(users[i]));
  const before = await info('memory', 'used_memory');
  // A uniform sample of the tokens to check at random (holding all 1M in this process is waste).
  const checks = Math.min(size, 50_000);
  const every = Math.max(1, Math.floor(size / checks));
  const sample = [];
  const all = [];
  const loadStart = process.hrtime.bigint();
  let lastReport = Date.now();
  await parallel(size, 256, async (i) => {
    const t = token(users[i % users.length].id, now);
    await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
    all.push({ userId: t.userId, hash: t.hash });
    if (i % every === 0) sample.push({ userId: t.userId, hash: t.hash });
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      console.log(`  ... ${i} of ${size} loaded`);
    }
  });
  const loadSecs = Number(process.hrtime.bigint() - loadStart) / 1e9;
  const bytes = ((await info('memory', 'used_memory')) - before) / size;
  // Every token checked once, 10 days after its creation (mid-life: last use is recorded), as in
  // steady state; memory again. This is also the warm-up of the rate measurement below.
  const later = now + 10 * DAY;
  await parallel(all.length, 32, async (i) => {
    if (!(await store.useToken(all[i].userId, all[i].hash, later, '10.0.0.1'))) throw new Error('inactive');
  });
  all.length = 0;
  const usedBytes = ((await info('memory', 'used_memory')) - before) / size;
  const pick = () => sample[Math.floor(Math.random() * sample.length)];
  const hot = sample[0];
  // Alternating thirds, so a machine getting busier or quieter moves both alike; medians.
  const randomRates = [];
  const hotRates = [];
  for (let round = 0; round < 3; round++) {
    randomRates.push(await rate(Math.ceil(checks / 3), async () => {
      const t = pick();
      if (!(await store.useToken(t.userId, t.hash, later + 1000, '10.0.0.1'))) throw new Error('inactive');
    }));
    hotRates.push(await rate(Math.ceil(checks / 3), async () => {
      if (!(await store.useToken(hot.userId, hot.hash, later + 1000, '10.0.0.1'))) throw new Error('inactive');
    }));
  }
  const randomRate = median(randomRates);
  const hotRate = median(hotRates);
  line(`${size} tokens: loaded in ${loadSecs.toFixed(1)} s (${Math.round(size / loadSecs)}/s), ${Math.round(bytes)} B of Redis memory per token (${Math.round(usedBytes)} B once each was checked); useToken random ${randomRate}/s vs hot ${hotRate}/s (${(randomRate / hotRate).toFixed(2)}x)`);
  await store.close();
}

// ---- 2. AOF bytes per check --------------------------------------------------------------------
await admin.flushall();
await admin.config('SET', 'appendonly', 'yes'); // starts a rewrite; wait until AOF is live
while (!/^aof_enabled:1/m.test(await admin.info('persistence')) || /^aof_rewrite_in_progress:1/m.test(await admin.info('persistence'))) {
  await new Promise((r) => setTimeout(r, 100));
}
for (const precision of [0, 60_000]) {
  await admin.flushall();
  await admin.bgrewriteaof();
  while (/^aof_rewrite_(in_progress|scheduled):1/m.test(await admin.info('persistence'))) await new Promise((r) => setTimeout(r, 100));
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
  const checks = AOF_CHECKS;
  const start = await info('persistence', 'aof_current_size');
  // Checks 1 ms apart in injected time (20k: 20 s): 100 tokens, each always from its own IP.
  await parallel(checks, 16, async (i) => {
    const t = tokens[i % 100];
    await store.useToken(u.id, t.hash, now + i, `10.0.${i % 2}.${i % 100}`);
  });
  await new Promise((r) => setTimeout(r, 1500)); // appendfsync no: let the AOF buffer reach the file size
  const grown = (await info('persistence', 'aof_current_size')) - start;
  line(`AOF, lastUsedPrecision ${precision / 1000}s: ${(grown / checks).toFixed(1)} B per check (${checks} checks, 100 tokens, each from one IP)`);
  await store.close();
}
await admin.config('SET', 'appendonly', 'no');

// ---- 3. one user with 1,000 active + 10,000 retained ------------------------------------------
{
  await admin.flushall();
  const store = openStore('h:', 60_000);
  const now = Date.now();
  const u = user(now);
  await store.createUser(u);
  const limit = { max: ACTIVE * 2, onLimit: 'refuse' };
  const retained = RETAINED;
  // A CI user's history: tokens created and revoked (16 at a time, each revoked after its own
  // insert), then the live ones.
  await parallel(retained, 16, async (i) => {
    const t = token(u.id, now + i);
    await store.insertToken(t, limit, now + i);
    await store.revokeToken(u.id, t.id, 'bench', now + i);
  });
  const live = [];
  await parallel(ACTIVE, 16, async (i) => {
    const t = token(u.id, now + retained + i);
    await store.insertToken(t, limit, now + retained + i);
    live.push(t);
  });
  const t1 = now + retained + ACTIVE + 1000;
  const listed = await store.listTokens(u.id, t1); // also completes any lazy migration
  line(`heavy user: ${listed.filter((t) => !t.revokedAt).length} active + ${listed.filter((t) => t.revokedAt).length} retained records`);
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.config('SET', 'slowlog-max-len', '100000');
  await admin.slowlog('RESET');
  /** Median client-side ms of n calls, and the longest single Redis command among them (SLOWLOG, µs). */
  let longest = { micros: 0, what: '' };
  const timed = async (n, fn) => {
    for (let i = 0; i < 3; i++) await fn(n + i); // warm: script cache, first-call costs
    await admin.slowlog('RESET');
    const xs = [];
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      await fn(i);
      xs.push(process.hrtime.bigint() - s);
    }
    const log = await admin.slowlog('GET', 100000);
    // A script counts as one command; the pipeline around replicated writes shows up as its parts.
    const calls = log.filter(([, , , args]) => !/^(slowlog|info|config)$/i.test(String(args[0]))).map(([, , micros, args]) => ({ micros: Number(micros), what: String(args[0]).toUpperCase() }));
    const top = calls.reduce((a, b) => (b.micros > a.micros ? b : a), { micros: 0, what: '-' });
    return { median: median(xs), top, text: `${ms(median(xs))} ms (longest Redis command ${top.micros} µs)` };
  };
  const note = (label, r) => {
    if (r.top.micros > longest.micros) longest = { micros: r.top.micros, what: `${r.top.what} during ${label}` };
    return r.text;
  };
  const activeOnly = { revoked: false, expired: false };
  const everything = { revoked: true, expired: true };
  const page = note('list page', await timed(30, () => store.listTokenPage(u.id, { limit: 50, include: activeOnly }, t1)));
  // The first page of retained records: a cursor just past the last active one.
  const lastActive = await store.listTokenPage(u.id, { limit: live.length, include: everything }, t1);
  const retainedPage = note('retained page', await timed(30, () => store.listTokenPage(u.id, { limit: 50, include: everything, cursor: lastActive.next }, t1)));
  const create = note('create', await timed(30, () => store.insertToken(token(u.id, t1), { max: ACTIVE, onLimit: 'evict' }, t1)));
  const revoke = note('revoke', await timed(30, (i) => store.revokeToken(u.id, live[Math.floor(live.length / 2) + (i % 40)].id, 'bench', t1)));
  const check = note('useToken', await timed(200, () => store.useToken(u.id, live[0].hash, t1, '10.0.0.1')));
  line(`heavy user (${ACTIVE} active + ${retained} retained), median of calls: page of 50 active ${page}; page of 50 retained ${retainedPage}; create evicting at ${ACTIVE} ${create}; revoke ${revoke}; useToken ${check}`);
  line(`heavy user: longest single Redis call over list, create, revoke and check: ${longest.micros} µs (${longest.what})`);
  // Not an API path any more (exports and leak reports only): every record, O(all), for contrast.
  const full = await timed(3, () => store.listTokens(u.id, t1));
  line(`heavy user: full listing of every record (listTokens) ${full.text}`);
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  await store.close();
}

await admin.flushall();
await redis.stop();
