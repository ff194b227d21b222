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
 *   3. one heavy user holding 1,000 active + 10,000 retained records (half revoked, half expired
 *      together just before the measured instant, not yet swept): per operation (the first
 *      creates and pages after that expiry, the first page, later pages of active, of
 *      revoked+expired and of revoked records, create at the limit evicting and refused, revoke,
 *      useToken, revoke-all of 1,000) the median client time, the median and longest Redis
 *      script call (SLOWLOG with slowlog-log-slower-than 0, reset around each kind), script calls
 *      per operation and calls over 1 ms; a goal line for issue #14 (no user's call holds Redis
 *      more than 1 ms); then the full listing (listTokens) for contrast.
 * Timings are medians of repeated calls on a shared machine: compare within one run.
 *
 * Counts: BENCH_SCALE_COUNTS (comma list; BENCH_SCALE_SIZES is the old name), else 10k, 100k and
 * 1M up to BENCH_SCALE_MAX (default 100000: 1M takes several minutes, see bench/README.md).
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { startPrivateRedis } from './private-redis.mjs';
import { DAY, median, parallel, redisInfo, sampleToken, sampleUser } from './samples.mjs';

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
const { RedisStore } = await import(new URL('store/redis/redis-store.js', DIST).href);

const redis = await startPrivateRedis({ name: 'tessera-scale', appendonly: 'no', appendfsync: 'no' });
const { port, admin } = redis;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const info = (section, field) => redisInfo(admin, section, field);
const ms = (ns) => (Number(ns) / 1e6).toFixed(2);

function openStore(prefix, precision) {
  return RedisStore.connect({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, auditRetentionMs: 30 * DAY, lastUsedPrecisionMs: precision, commandTimeoutMs: 30_000 });
}

const user = (now) => sampleUser(now);
const token = (userId, now) => sampleToken(userId, now);


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
// Two users with the same history (half the retained records revoked, half expired at t1 and not
// yet swept: the first calls after they expire do that), so the first create and the first
// listing after the expiry are each measured on a user where nothing has swept them yet. Every
// other operation runs on the first user; revoke-all on the second.
{
  await admin.flushall();
  const store = openStore('h:', 60_000);
  const now = Date.now();
  const revokedCount = Math.ceil(RETAINED / 2);
  const expiredCount = RETAINED - revokedCount;
  const t1 = now + RETAINED + ACTIVE + 1000;
  const loose = { max: RETAINED + ACTIVE * 2, onLimit: 'refuse' };
  async function load(u) {
    await store.createUser(u);
    // A CI user's history: tokens created and revoked (16 at a time, each revoked after its own
    // insert), tokens that expire just before t1, then the live ones.
    await parallel(revokedCount, 16, async (i) => {
      const t = token(u.id, now + i);
      await store.insertToken(t, loose, now + i);
      await store.revokeToken(u.id, t.id, 'bench', now + i);
    });
    await parallel(expiredCount, 16, async (i) => {
      const t = { ...token(u.id, now + revokedCount + i), expiresAt: t1 - 500 };
      await store.insertToken(t, loose, now + revokedCount + i);
    });
    const live = [];
    await parallel(ACTIVE, 16, async (i) => {
      const t = token(u.id, now + RETAINED + i);
      await store.insertToken(t, loose, now + RETAINED + i);
      live.push(t);
    });
    return live;
  }
  const u = user(now);
  const u2 = user(now);
  const live = await load(u);
  const live2 = await load(u2);

  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.config('SET', 'slowlog-max-len', '1000000');
  const isScript = (what) => /^(EVAL|EVALSHA|FCALL)$/.test(what);
  /**
   * Every Redis command logged since the last reset, oldest first. A script counts as one command;
   * the commands it ran are logged too, just before it, from client `?:0` (`inner`).
   */
  const commands = async () =>
    (await admin.slowlog('GET', 1000000))
      .filter(([, , , args]) => !/^(slowlog|info|config)$/i.test(String(args[0])))
      .map(([id, , micros, args, client]) => ({ id: Number(id), micros: Number(micros), what: String(args[0]).toUpperCase(), inner: client === '?:0' }))
      .reverse();
  /** The longest command a script ran (the entries logged just before it from `?:0`). */
  const longestInside = (log, script) => {
    let best = { micros: 0, what: '-' };
    for (let i = log.indexOf(script) - 1; i >= 0 && log[i].inner; i--) if (log[i].micros > best.micros) best = log[i];
    return best;
  };
  const results = [];
  let longest = { micros: 0, what: '' };
  const activeOnly = { revoked: false, expired: false };
  const everything = { revoked: true, expired: true };
  const revokedOnly = { revoked: true, expired: false };
  /**
   * Runs fn(i) for i < n one after the other (after `warm` unmeasured calls) and records, per
   * call of fn, the client-side time; over all of them, the Redis script calls' median and
   * longest time (SLOWLOG, µs), the longest Redis command of any kind, and script calls per fn.
   */
  const measure = async (label, n, fn, warm = 0) => {
    for (let i = 0; i < warm; i++) await fn(-1 - i);
    await admin.slowlog('RESET');
    const xs = [];
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      await fn(i);
      xs.push(process.hrtime.bigint() - s);
    }
    const log = await commands();
    const scripts = log.filter((c) => isScript(c.what)).map((c) => c.micros);
    const outer = log.filter((c) => !c.inner);
    const top = outer.reduce((a, b) => (b.micros > a.micros ? b : a), { micros: 0, what: '-' });
    // A long call whose time is mostly one small command inside it (an HGETALL taking ms) was
    // descheduled by the OS, not doing more work.
    const inside = isScript(top.what) ? longestInside(log, top) : undefined;
    top.detail = inside && inside.micros ? `, longest command inside it ${inside.what} ${inside.micros} µs` : '';
    if (top.micros > longest.micros) longest = { micros: top.micros, what: `${top.what} during ${label}`, detail: top.detail };
    const r = { label, n, client: median(xs), scriptMedian: scripts.length ? median(scripts) : 0, scriptLongest: scripts.length ? Math.max(...scripts) : 0, over: scripts.filter((x) => x > 1000).length, calls: scripts.length, top, perCall: scripts.length / n };
    results.push(r);
    return r;
  };

  // Redis compiles a script the first time a server sees it (300-650 µs for these ~12 KB scripts,
  // once per server and after SCRIPT FLUSH or a failover): done here on a scratch user, so the
  // measured calls are the work alone.
  {
    const scratch = user(now);
    await store.createUser(scratch);
    const t = token(scratch.id, now);
    await store.insertToken(t, { max: 1, onLimit: 'evict' }, now);
    await store.insertToken(token(scratch.id, now), { max: 1, onLimit: 'evict' }, now);
    await store.listTokenPage(scratch.id, { limit: 50, include: everything }, now);
    await store.revokeToken(scratch.id, t.id, 'bench', now);
    await store.revokeUserTokens(scratch.id, 'bench', now);
    await store.useToken(scratch.id, t.hash, now, '10.0.0.1');
  }
  // The first calls at t1, when half the retained records have just expired and nothing swept them.
  await measure('first creates after expiry', 20, () => store.insertToken(token(u.id, t1), { max: ACTIVE, onLimit: 'evict' }, t1));
  let cursor2;
  await measure('first pages after expiry', 20, async () => {
    const page = await store.listTokenPage(u2.id, { limit: 50, include: activeOnly, cursor: cursor2 }, t1);
    cursor2 = page.next;
  });
  const listed = await store.listTokens(u2.id, t1);
  line(`heavy user: ${listed.filter((t) => !t.revokedAt && t.expiresAt > t1).length} active + ${listed.filter((t) => t.revokedAt || t.expiresAt <= t1).length} retained records`);

  await measure('first page', 30, () => store.listTokenPage(u.id, { limit: 50, include: activeOnly }, t1), 3);
  // Later pages: the walk over every active token, page after page, from the second page on.
  const walk = async (include, limit, from, pages) => {
    let next = from;
    let count = 0;
    await measure(`later pages (${include === activeOnly ? 'active' : include === everything ? 'revoked,expired' : 'revoked'})`, pages, async (i) => {
      const page = await store.listTokenPage(u.id, { limit, include, cursor: next }, t1);
      count += page.tokens.length;
      next = page.next;
      if (!next && i < pages - 1) throw new Error(`walk ended after ${count} records`);
    });
    return next;
  };
  const second = (await store.listTokenPage(u.id, { limit: 50, include: activeOnly }, t1)).next;
  await walk(activeOnly, 50, second, Math.max(1, Math.floor(ACTIVE / 50) - 2));
  // Retained pages: from just past the last active token.
  const lastActive = (await store.listTokenPage(u.id, { limit: Math.min(1000, ACTIVE), include: everything }, t1)).next;
  // Up to 30 pages, fewer for a small run (the revoked records come first: revoked before t1).
  await walk(everything, 50, lastActive, Math.max(1, Math.min(30, Math.floor(RETAINED / 50) - 1)));
  await walk(revokedOnly, 50, lastActive, Math.max(1, Math.min(30, Math.floor(revokedCount / 50) - 1)));
  await measure('create evicting at the limit', 30, () => store.insertToken(token(u.id, t1), { max: ACTIVE, onLimit: 'evict' }, t1), 3);
  await measure('create refused at the limit', 30, async () => {
    await store.insertToken(token(u.id, t1), { max: ACTIVE, onLimit: 'refuse' }, t1).then(
      () => { throw new Error('not refused'); },
      (e) => { if (e.name !== 'Conflict' && !/limit/.test(e.message)) throw e; },
    );
  });
  await measure('revoke', 30, (i) => store.revokeToken(u.id, live[Math.floor(live.length / 2) + i].id, 'bench', t1));
  await measure('useToken', 200, () => store.useToken(u.id, live[live.length - 1].hash, t1, '10.0.0.1'), 3);
  const revokeAll = await measure(`revoke-all of ${ACTIVE}`, 1, async () => {
    const n = await store.revokeUserTokens(u2.id, 'bench', t1);
    if (n !== live2.length) throw new Error(`revoke-all revoked ${n} of ${live2.length}`);
  });
  const us = (n) => `${Math.round(n)} µs`;
  line(`heavy user (${ACTIVE} active + ${RETAINED} retained: ${revokedCount} revoked, ${expiredCount} expired at t1), per operation: client median; Redis script time per call (SLOWLOG), median / longest; script calls per operation; calls over 1 ms:`);
  for (const r of results) {
    line(`  ${r.label.padEnd(34)} ${ms(r.client).padStart(7)} ms  script ${us(r.scriptMedian).padStart(8)} / ${us(r.scriptLongest).padStart(9)}  ${r.perCall.toFixed(1).padStart(5)} calls/op  ${String(r.over).padStart(3)} of ${r.calls} calls > 1 ms  (${r.n} ops)`);
  }
  line(`heavy user: longest single Redis call over list, create, revoke and check: ${longest.micros} µs (${longest.what})`);
  const bounded = results.filter((r) => r !== revokeAll);
  const worst = bounded.reduce((a, b) => (b.top.micros > a.top.micros ? b : a));
  const over = bounded.reduce((n, r) => n + r.over, 0);
  const calls = bounded.reduce((n, r) => n + r.calls, 0);
  // On a shared machine a call can also be long because the OS descheduled redis-server in the
  // middle of it (then a single HGETALL inside the script shows milliseconds in SLOWLOG): the
  // count of long calls tells a stall (a few) from work that grew (most calls of one kind).
  line(`goal: no single user's call (all but revoke-all) holds Redis more than 1 ms: longest ${worst.top.micros} µs (${worst.top.what} during ${worst.label}${worst.top.detail}), ${over} of ${calls} script calls over 1 ms: ${worst.top.micros <= 1000 ? 'met' : 'NOT met'}`);
  line(`revoke-all of ${ACTIVE} active tokens (O(active) by nature): longest Redis call ${revokeAll.top.micros} µs, ${revokeAll.perCall.toFixed(0)} script call(s), ${ms(revokeAll.client)} ms in all`);
  // Not an API path any more (exports and leak reports only): every record, O(all), for contrast.
  const full = await measure('full listing (listTokens)', 3, () => store.listTokens(u.id, t1));
  line(`heavy user: full listing of every record (listTokens) ${ms(full.client)} ms (longest Redis command ${full.top.micros} µs)`);
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  await store.close();
}

await admin.flushall();
await redis.stop();
