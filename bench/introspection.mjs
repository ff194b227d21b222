#!/usr/bin/env node
/**
 * Throughput, latency and cost of Tessera's hot path beside what the same stack can do at best,
 * in ONE run with interleaved rounds (round 1: every case once, round 2: every case again, ...),
 * so a machine that gets busier or quieter during the run moves every case alike.
 *
 *   npm run bench                      (= npm run build && node bench/introspection.mjs)
 *   BENCH_ROUNDS=3 BENCH_DURATION=5 BENCH_CASES=koa,introspect,verify node bench/introspection.mjs
 *
 * Cases (BENCH_CASES names):
 *   koa         bare Koa, `ctx.body = 'hello'` (the ceiling of any Koa service here)
 *   koa-get     a 15-line Koa + ioredis server doing one GET per request (the limit of "one Redis
 *               round trip" on this stack)
 *   floor       the floor of a PAT introspection: bare Koa + the form, a constant-time client
 *               check and the gateway's own PatService.verify (its one Redis script), nothing else
 *   oidc        oidc-provider 9's own introspection (a standalone instance started here, its default
 *               in-memory adapter) of an opaque client-credentials access token it issued
 *   introspect  Tessera POST /oauth2/introspect of an active PAT, Redis store
 *   memory      the same on the embedded memory store
 *   verify      Tessera GET /auth/verify with `Authorization: Bearer <PAT>`, Redis store
 *   provider    Tessera introspection of an opaque access token its own provider issued, Redis
 *   login       POST /api/v1/login (password; scrypt cost BENCH_SCRYPT_COST), Redis
 *   create      POST /api/v1/tokens (create a PAT, evicting the oldest at the limit), Redis
 *
 * Every server runs in its own child process (bench/servers.mjs, forked), so the load
 * generator's CPU is not counted and each case's CPU per request is its server's alone. Every
 * Redis case uses a private redis-server (free port, AOF everysec, as the README recommends)
 * started here, so Redis CPU, command time and AOF growth per request are this bench's alone.
 *
 * Environment: BENCH_ROUNDS (5), BENCH_DURATION (s per case per round, 10), BENCH_CONNECTIONS (50),
 * BENCH_WARMUP (s, before round 1 only, 2), BENCH_CASES (comma list, default all),
 * BENCH_SCRYPT_COST (1024), BENCH_LOG (0: no access log; default the production JSON logger to
 * /dev/null), BENCH_PRECISION (ms, tokens.lastUsedPrecision of the Redis store; 0 = a write on
 * every check), BENCH_AUTOPIPELINE (1: ioredis auto-pipelining in the Redis store).
 *
 * Exits non-zero (and says why) when any request of any case saw an error, a timeout, a non-2xx
 * answer or an unexpected body, or a server could not start. Children and redis-server are
 * killed on every way out.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startPrivateRedis } from './private-redis.mjs';
import { KOA_GET_KEY } from './servers.mjs';

const ALL_CASES = ['koa', 'koa-get', 'floor', 'oidc', 'introspect', 'memory', 'verify', 'provider', 'login', 'create'];

class BenchError extends Error {}

/** Every process this bench starts; killed on any way out, including Ctrl-C. */
const spawned = new Set();
const killAll = () => {
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
};

function envNumber(name, fallback, { integer = false, min = 0 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new BenchError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function startChild(label) {
  const child = fork(fileURLToPath(new URL('./servers.mjs', import.meta.url)), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  spawned.add(child);
  let pending = null;
  child.on('message', (msg) => {
    const p = pending;
    pending = null;
    if (!p) return;
    if (msg.ok) p.resolve(msg);
    else p.reject(new BenchError(`${label} server: ${msg.error}`));
  });
  child.on('exit', (code, signal) => {
    if (pending) pending.reject(new BenchError(`${label} server exited (code ${code}, signal ${signal})`));
    pending = null;
  });
  const ready = new Promise((resolve, reject) => (pending = { resolve, reject }));
  return {
    child,
    ready,
    request(msg) {
      if (pending) throw new Error('one request at a time');
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        child.send(msg);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** A throwaway redis-server with AOF (everysec), as production runs it. */
async function startRedis() {
  try {
    return await startPrivateRedis({ name: 'tessera-bench', appendonly: 'yes', appendfsync: 'everysec' });
  } catch (err) {
    throw new BenchError(err.message);
  }
}

/** redis-server's counters: CPU (µs), AOF size (bytes), script calls and their time (µs). */
async function redisCounters(admin) {
  const text = await admin.info('all');
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1] ?? NaN);
  let scriptCalls = 0;
  let scriptMicros = 0;
  for (const m of text.matchAll(/^cmdstat_(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro):calls=(\d+),usec=(\d+)/gm)) {
    scriptCalls += Number(m[2]);
    scriptMicros += Number(m[3]);
  }
  return { cpu: (field('used_cpu_user') + field('used_cpu_sys')) * 1e6, aof: field('aof_current_size'), scriptCalls, scriptMicros };
}

async function requestJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json };
}

const form = (info) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(info.clientId)}:${encodeURIComponent(info.clientSecret)}`).toString('base64')}`,
  'content-type': 'application/x-www-form-urlencoded',
});

/**
 * Each case: which server it needs and a sample check made before any load. The check proves the
 * request does what the case claims (an active answer, and an inactive one for garbage, so
 * "active" is not the server saying yes to anything) and returns autocannon's request; where
 * every answer is the same, its body becomes `expectBody`, so every measured answer is checked.
 */
const CASES = {
  koa: {
    label: 'bare Koa',
    server: 'koa',
    async request(info) {
      const res = await requestJson(`${info.url}/`);
      if (res.status !== 200 || res.text !== 'hello') throw new BenchError(`bare Koa answered ${res.status} ${res.text}`);
      return { method: 'GET', path: '/', expectBody: 'hello' };
    },
  },
  'koa-get': {
    label: 'Koa + ioredis GET',
    server: 'koa-get',
    redis: true,
    async request(info) {
      const res = await requestJson(`${info.url}/`);
      if (res.status !== 200 || res.text !== 'hello') throw new BenchError(`Koa+GET answered ${res.status} ${res.text}`);
      return { method: 'GET', path: '/', expectBody: 'hello' };
    },
  },
  floor: {
    label: 'check floor (Koa + PatService.verify)',
    server: 'tessera-floor',
    redis: true,
    request: (info) => introspection(info, info.pat, (j) => j.active === true && j.username === info.username),
  },
  oidc: {
    label: 'oidc-provider introspection',
    server: 'oidc',
    request: (info) => introspection(info, info.providerToken, (j) => j.active === true && j.client_id === info.clientId),
  },
  introspect: {
    label: 'introspect PAT (redis)',
    server: 'tessera-redis',
    redis: true,
    check: true,
    request: (info) => introspection(info, info.pat, (j) => j.active === true && j.username === info.username && j.token_use === 'personal_access_token'),
  },
  memory: {
    label: 'introspect PAT (memory)',
    server: 'tessera-memory',
    request: (info) => introspection(info, info.pat, (j) => j.active === true && j.username === info.username),
  },
  verify: {
    label: 'auth/verify PAT (redis)',
    server: 'tessera-redis',
    redis: true,
    check: true,
    async request(info) {
      const headers = { authorization: `Bearer ${info.pat}` };
      const res = await fetch(`${info.url}/auth/verify`, { headers });
      const text = await res.text();
      if (res.status !== 200 || res.headers.get('x-tessera-user') !== info.username) throw new BenchError(`/auth/verify did not let the PAT through: HTTP ${res.status} ${text.slice(0, 300)}`);
      const denied = await fetch(`${info.url}/auth/verify`, { headers: { authorization: 'Bearer tsr_not-a-token' } });
      await denied.arrayBuffer();
      if (denied.status !== 401) throw new BenchError(`/auth/verify with a garbage token answered ${denied.status}, not 401`);
      return { method: 'GET', path: '/auth/verify', headers, expectBody: text };
    },
  },
  provider: {
    label: 'introspect provider token (redis)',
    server: 'tessera-redis',
    redis: true,
    check: true,
    request: (info) => introspection(info, info.providerToken, (j) => j.active === true && j.client_id === info.clientId),
  },
  login: {
    label: 'login (redis)',
    server: 'tessera-redis',
    redis: true,
    async request(info) {
      const headers = { 'content-type': 'application/json' };
      const body = JSON.stringify({ username: 'bench-login', password: info.loginPassword });
      const res = await requestJson(`${info.url}/api/v1/login`, { method: 'POST', headers, body });
      if (res.status !== 200 || !res.json?.access_token) throw new BenchError(`sample login failed: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      return { method: 'POST', path: '/api/v1/login', headers, body };
    },
  },
  create: {
    label: 'create PAT (redis)',
    server: 'tessera-redis',
    redis: true,
    async request(info) {
      const headers = { authorization: `Bearer ${info.creatorAccess}`, 'content-type': 'application/json' };
      const body = JSON.stringify({ name: 'bench', expires_in: '30d' });
      const res = await requestJson(`${info.url}/api/v1/tokens`, { method: 'POST', headers, body });
      if (res.status !== 201 || !res.json?.token) throw new BenchError(`sample PAT creation failed: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      return { method: 'POST', path: '/api/v1/tokens', headers, body };
    },
  },
};

async function introspection(info, token, isActive) {
  const headers = form(info);
  const body = `token=${encodeURIComponent(token)}`;
  const res = await requestJson(`${info.url}${info.introspectPath}`, { method: 'POST', headers, body });
  if (res.status !== 200 || !res.json || !isActive(res.json)) throw new BenchError(`sample introspection at ${info.introspectPath} was not active: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  const bad = await requestJson(`${info.url}${info.introspectPath}`, { method: 'POST', headers, body: 'token=tsr_not-a-token' });
  if (bad.status !== 200 || bad.json?.active !== false) throw new BenchError(`introspection of garbage at ${info.introspectPath} was not {"active":false}: HTTP ${bad.status}`);
  return { method: 'POST', path: info.introspectPath, headers, body, expectBody: res.text };
}

/** Goal ratios: numerator case / denominator case ≥ min. */
const GOALS = [
  ['introspect', 'koa', 0.5],
  ['introspect', 'koa-get', 0.9],
  ['verify', 'koa', 0.6],
  ['introspect', 'oidc', 3],
];

/**
 * Ratios printed for reading, with no goal: what the check itself costs over one GET, and what
 * the gateway around it (log, metrics, headers, error mapping, request context) costs.
 */
const INFO_RATIOS = [
  ['floor', 'koa-get'],
  ['introspect', 'floor'],
];

/** The goal ratios among the cases run; without any, every case against the first. */
function ratioPairs(cases) {
  const goals = GOALS.filter(([a, b]) => cases.includes(a) && cases.includes(b)).map(([a, b]) => [a, b]);
  return goals.length ? goals : cases.slice(1).map((c) => [c, cases[0]]);
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-');

function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

function load(autocannon, info, req, seconds, connections) {
  return autocannon({ url: `${info.url}${req.path}`, method: req.method, headers: req.headers, body: req.body, expectBody: req.expectBody, connections, pipelining: 1, duration: seconds });
}

const failures = (r) => r.errors + r.timeouts + r.non2xx + (r.mismatches ?? 0);
const statuses = (r) => Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => `${code}×${count}`).join(' ');

async function main() {
  const rounds = envNumber('BENCH_ROUNDS', 5, { integer: true, min: 1 });
  const seconds = envNumber('BENCH_DURATION', 10, { min: 1 });
  const connections = envNumber('BENCH_CONNECTIONS', 50, { integer: true, min: 1 });
  const warmup = envNumber('BENCH_WARMUP', 2, { min: 0 });
  const scryptCost = envNumber('BENCH_SCRYPT_COST', 1024, { integer: true, min: 1024 });
  const selected = process.env.BENCH_CASES ? process.env.BENCH_CASES.split(',').map((s) => s.trim()).filter(Boolean) : ALL_CASES;
  const unknown = selected.filter((c) => !ALL_CASES.includes(c));
  if (unknown.length || !selected.length) throw new BenchError(`BENCH_CASES: unknown case(s) ${unknown.join(', ') || '(none given)'}; known: ${ALL_CASES.join(', ')}`);
  const cases = ALL_CASES.filter((c) => selected.includes(c));

  const { default: autocannon } = await import('autocannon');
  const cores = cpus();
  console.log(`Tessera hot-path benchmark, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`node ${process.version}, ${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'})`);
  console.log(`cases: ${cases.join(', ')}; ${rounds} interleaved rounds of ${seconds} s per case; autocannon ${connections} connections, pipelining 1; ${warmup} s warm-up per case before round 1`);
  console.log('NOTE: load generator, servers (one child process each) and redis-server share this machine; only ratios within one run compare.');

  const children = new Map(); // server kind -> { ctl, info }
  let redis = null;
  const samples = Object.fromEntries(cases.map((c) => [c, []]));
  try {
    if (cases.some((c) => CASES[c].redis)) {
      redis = await startRedis();
      const v = /redis_version:(\S+)/.exec(await redis.admin.info('server'))?.[1];
      console.log(`private redis-server ${v} at ${redis.url} (appendonly yes, appendfsync everysec)`);
      await redis.admin.set(KOA_GET_KEY, 'hello');
    }
    const kinds = {
      koa: { kind: 'koa' },
      'koa-get': { kind: 'koa-get', redisUrl: redis?.url },
      oidc: { kind: 'oidc' },
      'tessera-redis': { kind: 'tessera', storeKind: 'redis', redisUrl: redis?.url, scryptCost },
      'tessera-memory': { kind: 'tessera', storeKind: 'memory', scryptCost },
      'tessera-floor': { kind: 'tessera', storeKind: 'redis', redisUrl: redis?.url, scryptCost, floor: true },
    };
    for (const server of new Set(cases.map((c) => CASES[c].server))) {
      const ctl = startChild(server);
      children.set(server, { ctl });
      await ctl.ready;
      children.get(server).info = await ctl.request({ cmd: 'start', ...kinds[server] });
    }
    const requests = {};
    for (const c of cases) requests[c] = await CASES[c].request(children.get(CASES[c].server).info);

    if (warmup > 0) {
      process.stdout.write('warm-up:');
      for (const c of cases) {
        const { info } = children.get(CASES[c].server);
        const w = await load(autocannon, info, requests[c], warmup, connections);
        if (failures(w)) throw new BenchError(`${c}: warm-up failed: ${w.errors} errors, ${w.timeouts} timeouts, ${w.non2xx} non-2xx, ${w.mismatches} unexpected bodies (statuses: ${statuses(w)})`);
        process.stdout.write(` ${c}`);
      }
      console.log('');
    }

    for (let round = 1; round <= rounds; round++) {
      const parts = [];
      for (const c of cases) {
        const { ctl, info } = children.get(CASES[c].server);
        const cpuBefore = (await ctl.request({ cmd: 'cpu' })).cpuMicros;
        const redisBefore = CASES[c].redis ? await redisCounters(redis.admin) : null;
        const r = await load(autocannon, info, requests[c], seconds, connections);
        const cpu = (await ctl.request({ cmd: 'cpu' })).cpuMicros - cpuBefore;
        const redisAfter = CASES[c].redis ? await redisCounters(redis.admin) : null;
        const n = r.requests.total;
        const sample = {
          rps: r.requests.mean,
          p50: r.latency.p50,
          p99: r.latency.p99,
          total: n,
          errors: r.errors,
          timeouts: r.timeouts,
          non2xx: r.non2xx,
          mismatches: r.mismatches ?? 0,
          cpu: n ? cpu / n : NaN,
          redisCpu: redisBefore && n ? (redisAfter.cpu - redisBefore.cpu) / n : NaN,
          aofBytes: redisBefore ? redisAfter.aof - redisBefore.aof : NaN,
          aof: redisBefore && n ? (redisAfter.aof - redisBefore.aof) / n : NaN,
          scriptCalls: redisBefore ? redisAfter.scriptCalls - redisBefore.scriptCalls : NaN,
          scriptMicros: redisBefore ? redisAfter.scriptMicros - redisBefore.scriptMicros : NaN,
        };
        samples[c].push(sample);
        parts.push(`${c} ${fmt(sample.rps)}/s`);
        if (failures(r) || !n) {
          throw new BenchError(`${c} (round ${round}): ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx, ${sample.mismatches} unexpected bodies, ${n} requests (statuses: ${statuses(r)})`);
        }
      }
      console.log(`round ${round}: ${parts.join(', ')} | ratios: ${ratioPairs(cases).map(([a, b]) => `${a}/${b} ${(samples[a][round - 1].rps / samples[b][round - 1].rps).toFixed(2)}x`).join(', ')} | load ${loadavg()[0].toFixed(1)}`);
    }
  } finally {
    await Promise.all([...children.values()].map(({ ctl }) => ctl.stop()));
    if (redis) await redis.stop();
  }
  report(cases, samples, connections);
}

function report(cases, samples, connections) {
  const head = ['case', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'redis CPU µs/req', 'script µs/call', 'scripts/req', 'AOF B/req'];
  const rows = cases.map((c) => {
    const s = samples[c];
    const m = (k) => median(s.map((x) => x[k]));
    const calls = s.reduce((a, x) => a + x.scriptCalls, 0);
    const micros = s.reduce((a, x) => a + x.scriptMicros, 0);
    const total = s.reduce((a, x) => a + x.total, 0);
    return [CASES[c].label, fmt(m('rps')), fmt(m('p50'), 1), fmt(m('p99'), 1), fmt(m('cpu')), fmt(m('redisCpu')), calls ? fmt(micros / calls, 1) : '-', CASES[c].redis ? fmt(calls / total, 2) : '-', fmt(m('aof'), 1)];
  });
  console.log('');
  console.log(`Medians over ${samples[cases[0]].length} round(s):`);
  console.log(table(head, rows));
  console.log('');
  console.log('req/s: mean of per-second samples; p50/p99: over every request of the round; CPU µs/req: server process (process.cpuUsage) and');
  console.log('redis-server (INFO cpu) per request; script µs/call: INFO commandstats eval/evalsha/fcall time per call, over all rounds; AOF B/req: aof_current_size growth per request.');

  const lines = [];
  const extra = ratioPairs(cases).filter(([a, b]) => !GOALS.some(([x, y]) => x === a && y === b));
  for (const [a, b] of extra) {
    const per = samples[a].map((x, i) => x.rps / samples[b][i].rps);
    lines.push(`ratio ${a}/${b}: median ${median(per).toFixed(2)}x (rounds: ${per.map((r) => r.toFixed(2) + 'x').join(' ')})`);
  }
  for (const [a, b] of INFO_RATIOS) {
    if (!samples[a] || !samples[b] || extra.some(([x, y]) => x === a && y === b)) continue;
    const per = samples[a].map((x, i) => x.rps / samples[b][i].rps);
    lines.push(`ratio ${a}/${b}: median ${median(per).toFixed(2)}x (rounds: ${per.map((r) => r.toFixed(2) + 'x').join(' ')}), no goal`);
  }
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  for (const [a, b, min] of GOALS) {
    if (!samples[a] || !samples[b]) continue;
    const per = samples[a].map((x, i) => x.rps / samples[b][i].rps);
    const med = median(per);
    lines.push(`ratio ${a}/${b}: median ${med.toFixed(2)}x (rounds: ${per.map((r) => r.toFixed(2) + 'x').join(' ')}), goal >= ${min}x: ${verdict(med >= min)}`);
  }
  for (const c of ['introspect', 'verify']) {
    if (!samples[c]) continue;
    const p99 = median(samples[c].map((x) => x.p99));
    lines.push(`p99 ${c}: median ${fmt(p99, 1)} ms at ${connections} connections, goal <= 5 ms: ${verdict(p99 <= 5)}`);
  }
  const checks = cases.filter((c) => CASES[c].check);
  if (checks.length) {
    const all = checks.flatMap((c) => samples[c]);
    const total = all.reduce((a, x) => a + x.total, 0);
    const aof = all.reduce((a, x) => a + x.aofBytes, 0) / total;
    const calls = all.reduce((a, x) => a + x.scriptCalls, 0);
    const script = calls ? all.reduce((a, x) => a + x.scriptMicros, 0) / calls : 0;
    lines.push(`AOF per check (${checks.join(' + ')}, all rounds): ${fmt(aof, 1)} B, goal <= 50 B: ${verdict(aof <= 50)}`);
    lines.push(`script time per check-path script call (same cases): ${calls ? fmt(script, 2) + ' µs' : 'no scripts ran'}, goal <= 5 µs: ${verdict(script <= 5)}`);
  }
  if (lines.length) {
    console.log('');
    console.log('Ratios and goals (medians of per-round ratios):');
    for (const l of lines) console.log(`  ${l}`);
  }
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the servers and redis-server`);
    killAll();
    process.exit(130);
  });
}
try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(`\nFAIL: ${err instanceof BenchError ? err.message : err.stack || err}`);
  process.exit(1);
}
