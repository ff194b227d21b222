#!/usr/bin/env node
/**
 * Throughput and latency of Tessera's hot path, against a bare Koa "hello" server as the baseline.
 *
 *   npm run bench                      (= npm run build && node bench/introspection.mjs)
 *   BENCH_DURATION=20 BENCH_CONNECTIONS=100 node bench/introspection.mjs
 *
 * Cases, each measured with autocannon after a short warm-up:
 *   1. koa-hello         bare Koa, `ctx.body = 'hello'` (the baseline)
 *   2. introspect/redis  POST /oauth2/introspect (client_secret_basic) of an active PAT, Redis store
 *   3. verify/redis      GET /auth/verify with `Authorization: Bearer <PAT>` (forward-auth), Redis
 *   4. introspect/memory as 2, on the embedded in-memory store (what the Redis round trip costs)
 *
 * The servers run in a child process (this file, forked with --serve) so the load generator and
 * the server under test have one event loop each; they still share the machine's cores with each
 * other and with redis-server.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50),
 * BENCH_WARMUP (s, default 2), BENCH_REDIS_URL (default redis://127.0.0.1:6379), BENCH_LOG (0: no
 * access log; default: the production JSON logger, writing to /dev/null), BENCH_PRECISION (ms,
 * tokens.lastUsedPrecision of the Redis store; 0 = write on every check), BENCH_AUTOPIPELINE (1:
 * ioredis auto-pipelining).
 *
 * Exits non-zero when any case saw errors, timeouts, non-2xx answers or an unexpected body.
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

function envNumber(name, fallback, { integer = false, min = 0 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    console.error(`bench: ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Child: the servers under test. Driven over IPC by the parent, one server at a time.
// ---------------------------------------------------------------------------------------------

async function serve() {
  let current = null; // { close(): Promise<void> }

  async function startKoa() {
    const { default: Koa } = await import('koa');
    const { createServer } = await import('node:http');
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = 'hello';
    });
    const server = createServer(app.callback());
    server.keepAliveTimeout = 65_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    current = {
      close: () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
    return { url: `http://127.0.0.1:${server.address().port}` };
  }

  async function startTessera({ storeKind, prefix }) {
    const { parseConfig } = await import('../dist/config/load.js');
    const { startGateway } = await import('../dist/server.js');
    const clientSecret = randomBytes(24).toString('base64url'); // 32 characters
    const config = parseConfig({
      server: { port: 0, host: '127.0.0.1' },
      passwords: { scryptCost: 1024 },
      // resourceServer: only resource servers may introspect users' PATs (explicit: not the default).
      // It may also get provider tokens (client credentials) to compare both token kinds.
      clients: [{ id: 'bench', secret: clientSecret, resourceServer: true, grantTypes: ['client_credentials'], allowedResources: ['https://bench.example'], allowedScopes: ['read'] }],
      resources: [{ indicator: 'https://bench.example', scopes: ['read'] }],
    });
    let store;
    if (storeKind === 'redis') {
      const { RedisStore } = await import('../dist/store/redis/redis-store.js');
      store = await RedisStore.connect({
        url: REDIS_URL,
        keyPrefix: prefix,
        auditRetentionMs: config.tokens.auditRetention,
        // BENCH_PRECISION=0 measures the old behaviour: a write on every check.
        lastUsedPrecisionMs: process.env.BENCH_PRECISION !== undefined ? Number(process.env.BENCH_PRECISION) : config.tokens.lastUsedPrecision,
        commandTimeoutMs: config.store.commandTimeout,
        autoPipelining: process.env.BENCH_AUTOPIPELINE === '1',
      });
    }
    // Production logging: one JSON access line per request, written asynchronously (to /dev/null,
    // so the terminal does not skew the numbers). BENCH_LOG=0 measures without any logging.
    const { createLogger } = await import('../dist/observability/logger.js');
    const { pino } = await import('pino');
    const logger = process.env.BENCH_LOG === '0' ? undefined : createLogger({ level: 'info' }, { destination: pino.destination({ dest: '/dev/null', sync: false }) });
    const gw = await startGateway(config, { store, adminPassword: randomBytes(18).toString('base64url'), logger });
    current = gw;
    const user = await gw.services.users.create({ username: 'bench-user', displayName: 'Bench User' });
    const { secret } = await gw.services.pats.create({ user, via: 'session', scopes: null }, { name: 'bench' });
    const basic = Buffer.from(`bench:${clientSecret}`).toString('base64');
    const tokenRes = await fetch(`${gw.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&resource=https%3A%2F%2Fbench.example&scope=read',
    });
    const providerToken = (await tokenRes.json()).access_token;
    if (!providerToken) throw new Error(`no client-credentials token: HTTP ${tokenRes.status}`);
    return { url: gw.url, pat: secret, providerToken, clientId: 'bench', clientSecret, username: user.username };
  }

  process.on('message', async (msg) => {
    try {
      if (msg.cmd === 'start') {
        if (current) throw new Error('a server is already running');
        const info = msg.kind === 'koa' ? await startKoa() : await startTessera(msg);
        process.send({ ok: true, ...info });
      } else if (msg.cmd === 'cpu') {
        const { user, system } = process.cpuUsage();
        process.send({ ok: true, cpuMicros: user + system });
      } else if (msg.cmd === 'stop') {
        const running = current;
        current = null;
        if (running) await running.close();
        process.send({ ok: true });
      } else if (msg.cmd === 'exit') {
        process.exit(0);
      }
    } catch (err) {
      process.send({ ok: false, error: err instanceof Error ? err.stack || err.message : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ok: true, ready: true });
}

// ---------------------------------------------------------------------------------------------
// Parent: load generation, checks, report.
// ---------------------------------------------------------------------------------------------

class BenchError extends Error {}

function controller(child) {
  let pending = null;
  child.on('message', (msg) => {
    const p = pending;
    pending = null;
    if (!p) return;
    if (msg.ok) p.resolve(msg);
    else p.reject(new BenchError(`server process: ${msg.error}`));
  });
  child.on('exit', (code, signal) => {
    if (pending) pending.reject(new BenchError(`server process exited (code ${code}, signal ${signal})`));
    pending = null;
  });
  const ready = new Promise((resolve, reject) => (pending = { resolve, reject }));
  return {
    ready,
    request(msg) {
      if (pending) throw new Error('one request at a time');
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        child.send(msg);
      });
    },
  };
}

async function introspectionCheck(info) {
  const basic = Buffer.from(`${encodeURIComponent(info.clientId)}:${encodeURIComponent(info.clientSecret)}`).toString('base64');
  const headers = { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' };
  const body = `token=${encodeURIComponent(info.pat)}`;
  const res = await fetch(`${info.url}/oauth2/introspect`, { method: 'POST', headers, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (res.status !== 200 || json?.active !== true || json.username !== info.username || json.token_use !== 'personal_access_token') {
    throw new BenchError(`sample introspection was not an active PAT: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  // And a garbage token is inactive, so "active" above is not the gateway saying yes to anything.
  const bad = await fetch(`${info.url}/oauth2/introspect`, { method: 'POST', headers, body: 'token=tsr_not-a-token' });
  const badJson = await bad.json().catch(() => null);
  if (bad.status !== 200 || badJson?.active !== false) throw new BenchError(`introspection of garbage was not {"active":false}: HTTP ${bad.status}`);
  return { method: 'POST', path: '/oauth2/introspect', headers, body, expectBody: text };
}

/** oidc-provider's own opaque access token, at the same endpoint. */
async function providerIntrospectionCheck(info) {
  const basic = Buffer.from(`${encodeURIComponent(info.clientId)}:${encodeURIComponent(info.clientSecret)}`).toString('base64');
  const headers = { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' };
  const body = `token=${encodeURIComponent(info.providerToken)}`;
  const res = await fetch(`${info.url}/oauth2/introspect`, { method: 'POST', headers, body });
  const text = await res.text();
  const json = JSON.parse(text);
  if (res.status !== 200 || json.active !== true || json.client_id !== info.clientId) {
    throw new BenchError(`sample introspection of a provider token was not active: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  // Provider answers carry no per-request varying field, so the body can be compared exactly.
  return { method: 'POST', path: '/oauth2/introspect', headers, body, expectBody: text };
}

async function verifyCheck(info) {
  const headers = { authorization: `Bearer ${info.pat}` };
  const res = await fetch(`${info.url}/auth/verify`, { headers });
  const text = await res.text();
  if (res.status !== 200 || res.headers.get('x-tessera-user') !== info.username) {
    throw new BenchError(`sample /auth/verify did not let the PAT through: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  const denied = await fetch(`${info.url}/auth/verify`, { headers: { authorization: 'Bearer tsr_not-a-token' } });
  await denied.arrayBuffer();
  if (denied.status !== 401) throw new BenchError(`/auth/verify with a garbage token answered ${denied.status}, not 401`);
  return { method: 'GET', path: '/auth/verify', headers, expectBody: text };
}

async function koaCheck(info) {
  const res = await fetch(`${info.url}/`);
  const text = await res.text();
  if (res.status !== 200 || text !== 'hello') throw new BenchError(`koa baseline answered ${res.status} ${text}`);
  return { method: 'GET', path: '/', headers: {}, expectBody: 'hello' };
}

async function load(autocannon, info, req, seconds, connections) {
  return autocannon({
    url: `${info.url}${req.path}`,
    method: req.method,
    headers: req.headers,
    body: req.body,
    expectBody: req.expectBody,
    connections,
    pipelining: 1,
    duration: seconds,
  });
}

/** redis-server's own CPU time (user + system), in microseconds, from INFO cpu. */
async function redisCpuMicros(redis) {
  const info = await redis.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function deletePrefix(redis, prefix) {
  if (redis.status === 'wait') await redis.connect();
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows) {
  const head = ['case', 'req/s (mean)', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs koa-hello', 'server CPU µs/req', 'redis CPU µs/req'];
  const ms = (v) => (v < 1 ? '<1' : fmt(v, 0));
  const us = (v) => (Number.isFinite(v) ? fmt(v, 0) : '-');
  const body = rows.map((r) => [r.name, fmt(r.rps, 0), ms(r.p50), ms(r.p99), String(r.non2xx), String(r.errors), r.ratio, us(r.gwCpuPerReq), us(r.redisCpuPerReq)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

async function main() {
  const seconds = envNumber('BENCH_DURATION', 10, { min: 1 });
  const connections = envNumber('BENCH_CONNECTIONS', 50, { integer: true, min: 1 });
  const warmup = envNumber('BENCH_WARMUP', 2, { min: 0 });
  const { default: autocannon } = await import('autocannon');
  const { default: Redis } = await import('ioredis');
  // A separate client for INFO and the final cleanup; the gateway's store has its own.
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});

  const prefix = `tessera-bench:${randomUUID()}:`;
  const cores = cpus();
  console.log(`Tessera introspection benchmark, ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}), Redis ${REDIS_URL}`);
  console.log(`autocannon: ${connections} connections, pipelining 1, ${seconds} s per case after a ${warmup} s warm-up`);
  console.log(
    `NOTE: load generator (this process), server under test (a child process) and redis-server all run on this machine and share its ${cores.length} cores; absolute figures understate a dedicated server, the ratios are the useful part.`,
  );

  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ctl = controller(child);
  const results = [];
  let failure = null;
  try {
    await ctl.ready;
    try {
      await redis.connect();
    } catch (err) {
      throw new BenchError(`cannot reach Redis at ${REDIS_URL} (set BENCH_REDIS_URL): ${err.message}`);
    }
    const cases = [
      { name: 'koa-hello (baseline)', start: { kind: 'koa' }, checks: [['', koaCheck]] },
      {
        name: 'redis',
        start: { kind: 'tessera', storeKind: 'redis', prefix },
        checks: [
          ['introspect PAT (redis)', introspectionCheck],
          ['auth/verify PAT (redis)', verifyCheck],
          ['introspect provider token (redis)', providerIntrospectionCheck],
        ],
      },
      { name: 'memory', start: { kind: 'tessera', storeKind: 'memory' }, checks: [['introspect PAT (memory)', introspectionCheck]] },
    ];
    for (const group of cases) {
      const info = await ctl.request({ cmd: 'start', ...group.start });
      let caseFailed = true;
      try {
        for (const [label, check] of group.checks) {
          const name = label || group.name;
          const req = await check(info);
          if (warmup > 0) {
            process.stdout.write(`  ${name}: warm-up ${warmup} s ... `);
            const w = await load(autocannon, info, req, warmup, connections);
            if (w.errors || w.timeouts || w.non2xx || w.mismatches) {
              throw new BenchError(`${name}: warm-up failed: ${w.errors} errors (${w.timeouts} timeouts), ${w.non2xx} non-2xx, ${w.mismatches} unexpected bodies`);
            }
          } else {
            process.stdout.write(`  ${name}: `);
          }
          process.stdout.write(`measuring ${seconds} s ... `);
          const usesRedis = group.start.storeKind === 'redis';
          const gwBefore = (await ctl.request({ cmd: 'cpu' })).cpuMicros;
          const redisBefore = usesRedis ? await redisCpuMicros(redis) : 0;
          const r = await load(autocannon, info, req, seconds, connections);
          const gwCpu = (await ctl.request({ cmd: 'cpu' })).cpuMicros - gwBefore;
          const redisCpu = usesRedis ? (await redisCpuMicros(redis)) - redisBefore : NaN;
          console.log(`${fmt(r.requests.mean)} req/s`);
          results.push({
            name,
            rps: r.requests.mean,
            p50: r.latency.p50,
            p99: r.latency.p99,
            non2xx: r.non2xx,
            errors: r.errors, // autocannon counts timeouts among errors too
            mismatches: r.mismatches,
            total: r.requests.total,
            gwCpuPerReq: r.requests.total ? gwCpu / r.requests.total : NaN,
            redisCpuPerReq: r.requests.total ? redisCpu / r.requests.total : NaN,
          });
        }
        caseFailed = false;
      } finally {
        // On a failure already on its way up, a failing stop must not replace it.
        await ctl.request({ cmd: 'stop' }).catch((err) => {
          if (!caseFailed) throw err;
        });
      }
    }
  } catch (err) {
    failure = err;
  } finally {
    if (child.connected) child.send({ cmd: 'exit' });
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(timer);
    }
    try {
      const deleted = await deletePrefix(redis, prefix);
      console.log(`cleanup: deleted ${deleted} Redis keys under ${prefix}`);
    } catch (err) {
      console.error(`cleanup: could not delete the Redis keys under ${prefix}: ${err.message}`);
      failure ??= err;
    } finally {
      redis.disconnect();
    }
  }

  if (results.length) {
    const base = results[0].rps;
    for (const r of results) r.ratio = `${(r.rps / base).toFixed(2)}x`;
    console.log('');
    console.log(table(results));
    console.log('');
    console.log('req/s is the mean of per-second samples; latency percentiles are over every request (ms, 1 ms resolution);');
    console.log('"vs koa-hello" is req/s relative to the bare Koa baseline measured in this same run;');
    console.log('CPU µs/req is the CPU time (user+system) the server process, and redis-server (INFO cpu, whole server), spent per request.');
  }

  const bad = results.filter((r) => r.non2xx || r.errors || r.mismatches || !r.total);
  for (const r of bad) {
    console.error(`FAIL ${r.name}: ${r.non2xx} non-2xx, ${r.errors} errors (incl. timeouts), ${r.mismatches} unexpected bodies, ${r.total} requests`);
  }
  if (failure) console.error(`FAIL: ${failure instanceof BenchError ? failure.message : failure.stack || failure}`);
  process.exit(failure || bad.length ? 1 : 0);
}

if (process.argv.includes('--serve')) await serve();
else await main();
