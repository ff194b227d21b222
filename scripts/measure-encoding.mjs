#!/usr/bin/env node
/**
 * Measures the Redis side of tokens on a throwaway redis-server (AOF on, as the README recommends):
 *
 *   npm run build && node scripts/measure-encoding.mjs
 *   MEASURE_DIST=/path/to/older/dist node scripts/measure-encoding.mjs    (another build, same run)
 *   MEASURE_SIZES=10000,100000,1000000 node scripts/measure-encoding.mjs
 *
 * Everything goes through the store code (`RedisStore`), never hand-written records:
 *   1. Redis memory per token (used_memory delta / tokens, one user per 50 tokens, user records
 *      included), after every token was checked once (so last use is recorded), and the
 *      MEMORY USAGE of one token's keys;
 *   2. script time per check (INFO commandstats usec_per_call of EVALSHA): repeated checks from
 *      the recorded IP within lastUsedPrecision (no write), and checks that write;
 *   3. AOF bytes per check: 100 tokens checked 20,000 times over 20 s of injected time, each
 *      from its own IP, precision 60 s;
 *   4. a user with 1,000 active + 10,000 retained records: create, revoke, a page of 50, with the
 *      longest single Redis command (SLOWLOG);
 *   5. with MEASURE_COMPARE=/path/to/other/dist: the check script of both builds on the same
 *      server in interleaved rounds (SLOWLOG durations, medians), next to an EVALSHA of
 *      `return 1` and a plain GET, since on a loaded machine only such side-by-side numbers
 *      mean anything.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { startPrivateRedis } from '../bench/private-redis.mjs';
import { DAY, base62, median, parallel, redisInfo, sampleToken, sampleUser } from '../bench/samples.mjs';

const DIST = process.env.MEASURE_DIST ? pathToFileURL(process.env.MEASURE_DIST + '/').href : new URL('../dist/', import.meta.url).href;
const SIZES = (process.env.MEASURE_SIZES || '10000,100000').split(',').map(Number);
const { RedisStore } = await import(new URL('store/redis/redis-store.js', DIST).href);

const redis = await startPrivateRedis({ name: 'tessera-encoding', appendonly: 'yes', appendfsync: 'no' });
const { port, admin } = redis;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const info = (section, field) => redisInfo(admin, section, field);
const usecPerCall = async (cmd) => {
  const m = (await admin.info('commandstats')).match(new RegExp(`^cmdstat_${cmd}:calls=(\\d+),usec=(\\d+),usec_per_call=([\\d.]+)`, 'm'));
  return m ? { calls: Number(m[1]), usecPerCall: Number(m[3]) } : { calls: 0, usecPerCall: NaN };
};

function openStore(prefix, precision) {
  return RedisStore.connect({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, auditRetentionMs: 30 * DAY, lastUsedPrecisionMs: precision, commandTimeoutMs: 30_000 });
}
const user = (now) => sampleUser(now);
// As the gateway makes them: 12-char ids, a name, a scope.
const token = (userId, now) => sampleToken(userId, now, { id: base62(12), name: 'ci deploy token', scope: 'api:read', createdBy: 'bench-user' });


const out = [];
const line = (s) => { out.push(s); console.log(s); };
line(`measure-encoding ${new Date().toISOString()} load ${loadavg().map((l) => l.toFixed(1)).join(' ')} dist ${process.env.MEASURE_DIST || 'dist'}`);

// ---- 1 + 2. memory per token; script time per check --------------------------------------------
for (const size of SIZES) {
  await admin.flushall();
  const store = openStore('s:', 60_000);
  const now = Date.now();
  const before = await info('memory', 'used_memory');
  const tokens = [];
  const users = [];
  for (let i = 0; i < size / 50; i++) users.push(user(now));
  await parallel(users.length, 32, (i) => store.createUser(users[i]));
  await parallel(size, 64, async (i) => {
    const t = token(users[i % users.length].id, now);
    await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
    tokens.push(t);
  });
  const created = ((await info('memory', 'used_memory')) - before) / size;
  // Every token used once: last use (time + IP) recorded, as in steady state.
  await admin.config('RESETSTAT');
  await parallel(size, 64, async (i) => {
    const t = tokens[i];
    if (!(await store.useToken(t.userId, t.hash, now + 1000, '10.0.0.1'))) throw new Error('inactive');
  });
  const writing = await usecPerCall('evalsha');
  const used = ((await info('memory', 'used_memory')) - before) / size;
  const t0 = tokens[0];
  const keys = await admin.keys(`s:{${t0.userId}}:*`);
  const usage = {};
  for (const k of keys) {
    const kind = k.slice(`s:{${t0.userId}}:`.length).replace(/:.*$/, ':*');
    if (kind === 't:*' || kind === 'h:*') { if (usage[kind] === undefined) usage[kind] = await admin.memory('USAGE', k); }
    else usage[kind] = await admin.memory('USAGE', k);
  }
  await admin.config('RESETSTAT');
  const checks = Math.min(size, 50_000);
  await parallel(checks, 32, async () => {
    const t = tokens[Math.floor(Math.random() * tokens.length)];
    if (!(await store.useToken(t.userId, t.hash, now + 2000, '10.0.0.1'))) throw new Error('inactive');
  });
  const reading = await usecPerCall('evalsha');
  line(`${size} tokens: ${Math.round(created)} B/token created, ${Math.round(used)} B/token after one check each; ` +
    `MEMORY USAGE ${Object.entries(usage).map(([k, v]) => `${k} ${v}`).join(', ')} (50 tokens per user); ` +
    `check script ${reading.usecPerCall} µs/call without write (${reading.calls} calls), ${writing.usecPerCall} µs/call writing last use`);
  await store.close();
}

// ---- 3. AOF bytes per check ------------------------------------------------------------------
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
  await new Promise((r) => setTimeout(r, 1500));
  const start = await info('persistence', 'aof_current_size');
  await parallel(checks, 16, async (i) => {
    const t = tokens[i % 100];
    await store.useToken(u.id, t.hash, now + i, `10.0.${i % 2}.${i % 100}`);
  });
  await new Promise((r) => setTimeout(r, 1500));
  const grown = (await info('persistence', 'aof_current_size')) - start;
  line(`AOF, lastUsedPrecision ${precision / 1000}s: ${(grown / checks).toFixed(1)} B per check (${checks} checks over 20 s, 100 tokens, each from one IP)`);
  await store.close();
}

// ---- 4. one user with 1,000 active + 10,000 retained -----------------------------------------
{
  await admin.flushall();
  const store = openStore('h:', 60_000);
  const now = Date.now();
  const u = user(now);
  await store.createUser(u);
  const limit = { max: 2000, onLimit: 'refuse' };
  const retained = Number(process.env.MEASURE_RETAINED || 10_000);
  await parallel(retained, 16, async (i) => {
    const t = token(u.id, now + i);
    await store.insertToken(t, limit, now + i);
    await store.revokeToken(u.id, t.id, 'bench', now + i);
  });
  const live = [];
  for (let i = 0; i < 1000; i++) {
    const t = token(u.id, now + retained + i);
    await store.insertToken(t, limit, now + retained + i);
    live.push(t);
  }
  const t1 = now + retained + 2000;
  await store.listTokens(u.id, t1);
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.config('SET', 'slowlog-max-len', '100000');
  const timed = async (n, fn) => {
    await admin.slowlog('RESET');
    const xs = [];
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      await fn(i);
      xs.push(Number(process.hrtime.bigint() - s) / 1000);
    }
    const log = await admin.slowlog('GET', 100000);
    const redis = log.filter(([, , , args]) => /^eval/.test(String(args[0]))).map(([, , micros]) => Number(micros));
    return `${Math.round(median(xs))} µs (script median ${median(redis)} µs, longest ${Math.max(...redis)} µs)`;
  };
  const page = await timed(30, () => store.listTokenPage(u.id, { limit: 50, include: { revoked: false, expired: false } }, t1));
  const create = await timed(30, () => store.insertToken(token(u.id, t1), { max: 1000, onLimit: 'evict' }, t1));
  const revoke = await timed(30, (i) => store.revokeToken(u.id, live[500 + i].id, 'bench', t1));
  const check = await timed(200, () => store.useToken(u.id, live[0].hash, t1, '10.0.0.1'));
  line(`1,000 active + ${retained} retained, client median: list page of 50 ${page}; create evicting at 1,000 ${create}; revoke ${revoke}; check ${check}`);
  await store.close();
}

// ---- 5. check script time, side by side -----------------------------------------------------
if (process.env.MEASURE_COMPARE) {
  await admin.flushall();
  const other = await import(new URL('store/redis/redis-store.js', pathToFileURL(process.env.MEASURE_COMPARE + '/').href));
  const now = Date.now();
  const builds = [];
  for (const [label, Store] of [['this', RedisStore], ['other', other.RedisStore]]) {
    const store = Store.connect({ url: `redis://127.0.0.1:${port}`, keyPrefix: `${label}:`, auditRetentionMs: 30 * DAY, lastUsedPrecisionMs: 60_000, commandTimeoutMs: 30_000 });
    const tokens = [];
    for (let u = 0; u < 40; u++) {
      const owner = user(now);
      await store.createUser(owner);
      for (let i = 0; i < 50; i++) {
        const t = token(owner.id, now);
        await store.insertToken(t, { max: 1000, onLimit: 'refuse' }, now);
        await store.useToken(owner.id, t.hash, now, '10.0.0.1');
        tokens.push(t);
      }
    }
    builds.push({ label, store, tokens });
  }
  const sha = await admin.script('LOAD', 'return 1');
  await admin.set('ref', 'x');
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.config('SET', 'slowlog-max-len', '100000');
  const durations = { this: [], other: [], 'EVALSHA return 1': [], GET: [] };
  const collect = async (into, n, fn) => {
    await admin.slowlog('RESET');
    for (let i = 0; i < n; i++) await fn(i);
    const log = await admin.slowlog('GET', 100000);
    // SLOWLOG also lists the commands a script runs, in upper case; the client sends lower case.
    into.push(...log.filter(([, , , args]) => /^(evalsha|get)$/.test(String(args[0]))).map(([, , micros]) => Number(micros)));
  };
  for (let round = 0; round < 10; round++) {
    for (const b of builds) await collect(durations[b.label], 500, (i) => b.store.useToken(b.tokens[(round * 500 + i) % b.tokens.length].userId, b.tokens[(round * 500 + i) % b.tokens.length].hash, now + 1000, '10.0.0.1'));
    await collect(durations['EVALSHA return 1'], 500, () => admin.evalsha(sha, 0));
    await collect(durations.GET, 500, () => admin.get('ref'));
  }
  const writes = { this: [], other: [] };
  for (const b of builds) await collect(writes[b.label], 1000, (i) => b.store.useToken(b.tokens[i].userId, b.tokens[i].hash, now + 120_000, '10.0.0.2'));
  const med = (xs) => (xs.length ? median(xs) : NaN);
  line(`check script, same server, 10 interleaved rounds, SLOWLOG median µs: this build ${med(durations.this)} (writing last use ${med(writes.this)}), ` +
    `${process.env.MEASURE_COMPARE} ${med(durations.other)} (writing ${med(writes.other)}); EVALSHA 'return 1' ${med(durations['EVALSHA return 1'])}, GET ${med(durations.GET)}`);
  // The heavy user on both builds, interleaved: page of 50, create at the limit, revoke.
  const retained = Number(process.env.MEASURE_RETAINED || 10_000);
  const heavy = [];
  for (const b of builds) {
    const owner = user(now);
    await b.store.createUser(owner);
    await parallel(retained, 16, async (i) => {
      const t = token(owner.id, now + i);
      await b.store.insertToken(t, { max: 2000, onLimit: 'refuse' }, now + i);
      await b.store.revokeToken(owner.id, t.id, 'bench', now + i);
    });
    const live = [];
    for (let i = 0; i < 1000; i++) {
      const t = token(owner.id, now + retained + i);
      await b.store.insertToken(t, { max: 2000, onLimit: 'refuse' }, now + retained + i);
      live.push(t);
    }
    await b.store.listTokens(owner.id, now + retained + 2000);
    heavy.push({ ...b, owner, live });
  }
  const t1 = now + retained + 2000;
  const calls = {};
  for (let round = 0; round < 5; round++) {
    for (const b of heavy) {
      for (const [what, fn] of [
        ['page', () => b.store.listTokenPage(b.owner.id, { limit: 50, include: { revoked: false, expired: false } }, t1)],
        ['create', () => b.store.insertToken(token(b.owner.id, t1), { max: 1000, onLimit: 'evict' }, t1)],
        ['revoke', (i) => b.store.revokeToken(b.owner.id, b.live[500 + round * 10 + i].id, 'bench', t1)],
      ]) {
        await admin.slowlog('RESET');
        for (let i = 0; i < 10; i++) await fn(i);
        const log = await admin.slowlog('GET', 100000);
        (calls[`${b.label} ${what}`] ??= []).push(...log.filter(([, , , args]) => /^eval/.test(String(args[0]))).map(([, , micros]) => Number(micros)));
      }
    }
  }
  line(`1,000 active + ${retained} retained, same server, 5 interleaved rounds, script median / longest µs: ` +
    Object.entries(calls).map(([k, xs]) => `${k} ${med(xs)} / ${Math.max(...xs)}`).join('; '));
  for (const b of builds) await b.store.close();
}

await redis.stop();
