#!/usr/bin/env node
/**
 * The servers `npm run bench` (introspection.mjs) measures, one per child process: bare Koa, Koa
 * with one ioredis GET, a standalone oidc-provider, and the built gateway (dist/) on Redis or on
 * the memory store. The parent forks this file and drives it over IPC: `start` (with the kind and
 * its options; answers what the parent needs to build requests), `cpu` (this process's CPU time,
 * so CPU per request is the server's alone), `exit`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';

/** The key the Koa + GET server reads; the parent sets it in its private Redis. */
export const KOA_GET_KEY = 'bench:koa-get';

const listen = async (server) => {
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${server.address().port}`;
};


const servers = {
  async koa() {
    const { default: Koa } = await import('koa');
    const { createServer } = await import('node:http');
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = 'hello';
    });
    return { url: await listen(createServer(app.callback())) };
  },

  /** What "one Redis round trip per request" costs at best on this stack. */
  async 'koa-get'({ redisUrl }) {
    const { default: Koa } = await import('koa');
    const { Redis } = await import('ioredis');
    const { createServer } = await import('node:http');
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const app = new Koa();
    app.use(async (ctx) => {
      ctx.body = await redis.get(KOA_GET_KEY);
    });
    return { url: await listen(createServer(app.callback())) };
  },

  /** oidc-provider on its own: client_credentials + introspection, default (in-memory) adapter. */
  async oidc() {
    const { default: Provider } = await import('oidc-provider');
    const { createServer } = await import('node:http');
    let handler = (_req, res) => res.writeHead(503).end();
    const url = await listen(createServer((req, res) => handler(req, res)));
    const secret = randomBytes(24).toString('base64url');
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const provider = new Provider(url, {
      clients: [{ client_id: 'bench', client_secret: secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }],
      ttl: { ClientCredentials: 3600 },
      features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: false } },
      jwks: { keys: [{ ...key, kid: 'bench', use: 'sig', alg: 'RS256' }] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
    });
    handler = provider.callback();
    const basic = Buffer.from(`bench:${secret}`).toString('base64');
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const answer = await res.json();
    if (!answer.access_token) throw new Error(`oidc-provider issued no client-credentials token: HTTP ${res.status} ${JSON.stringify(answer)}`);
    const token = answer.access_token;
    return { url, introspectPath: '/token/introspection', clientId: 'bench', clientSecret: secret, providerToken: token };
  },

  async tessera({ storeKind, redisUrl, scryptCost, floor = false }) {
    const { parseConfig } = await import('../dist/config/load.js');
    const { startGateway } = await import('../dist/server.js');
    const clientSecret = randomBytes(24).toString('base64url');
    const config = parseConfig({
      server: { port: 0, host: '127.0.0.1' },
      passwords: { scryptCost },
      // The login case's access token also drives the create case for the whole run.
      // The lockout also caps attempts in flight per account and address at its failure limits;
      // 50 connections signing in as one account from one address would be 429s. Raised so the
      // login case measures sign-ins (the throttle's bookkeeping still runs on each).
      auth: { accessTokenTtl: '24h', lockout: { maxFailuresPerAccountAndIp: 10_000, maxFailuresPerAccount: 10_000, maxFailuresPerIp: 10_000 } },
      // resourceServer: only resource servers may introspect users' PATs. It may also get
      // provider tokens (client credentials), to compare both token kinds.
      clients: [{ id: 'bench', secret: clientSecret, resourceServer: true, grantTypes: ['client_credentials'], allowedResources: ['https://bench.example'], allowedScopes: ['read'] }],
      resources: [{ indicator: 'https://bench.example', scopes: ['read'] }],
    });
    let store;
    if (storeKind === 'redis') {
      const { RedisStore } = await import('../dist/store/redis/redis-store.js');
      store = RedisStore.connect({
        url: redisUrl,
        keyPrefix: floor ? 'tessera-bench-floor:' : 'tessera-bench:',
        auditRetentionMs: config.tokens.auditRetention,
        // BENCH_PRECISION=0: a write on every check, to compare with the default precision.
        lastUsedPrecisionMs: process.env.BENCH_PRECISION ? Number(process.env.BENCH_PRECISION) : config.tokens.lastUsedPrecision,
        commandTimeoutMs: config.store.commandTimeout,
        autoPipelining: process.env.BENCH_AUTOPIPELINE === '1',
      });
    }
    // Production logging: one JSON access line per request, asynchronous, to /dev/null.
    const { createLogger } = await import('../dist/observability/logger.js');
    const { pino } = await import('pino');
    const logger = process.env.BENCH_LOG === '0' ? undefined : createLogger({ level: 'info' }, { destination: pino.destination({ dest: '/dev/null', sync: false }) });
    const gw = await startGateway(config, { store, adminPassword: randomBytes(18).toString('base64url'), logger });
    const { users, pats } = gw.services;
    // Three users: the checked PAT's owner must never see its token evicted by the create case.
    const user = await users.create({ username: 'bench-user', displayName: 'Bench User' });
    const { secret: pat } = await pats.create({ user, via: 'session', scopes: null }, { name: 'bench' });
    const password = randomBytes(18).toString('base64url');
    await users.create({ username: 'bench-login', displayName: 'Bench Login', password });
    await users.create({ username: 'bench-creator', displayName: 'Bench Creator', password });
    const login = async (username) => {
      const res = await fetch(`${gw.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      const body = await res.json();
      if (res.status !== 200 || !body.access_token) throw new Error(`login as ${username}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      return body.access_token;
    };
    const creatorAccess = await login('bench-creator');
    const basic = Buffer.from(`bench:${clientSecret}`).toString('base64');
    const tokenRes = await fetch(`${gw.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&resource=https%3A%2F%2Fbench.example&scope=read',
    });
    const providerToken = (await tokenRes.json()).access_token;
    if (!providerToken) throw new Error(`no client-credentials token: HTTP ${tokenRes.status}`);
    const url = floor ? await checkFloor(gw.services.pats, user, `Basic ${basic}`) : gw.url;
    return { url, close: () => gw.close(), introspectPath: '/oauth2/introspect', pat, providerToken, clientId: 'bench', clientSecret, username: user.username, loginPassword: password, creatorAccess };
  },
};

/**
 * The floor of a PAT introspection on this stack: a bare Koa handler that does only what no
 * check can skip (read the form, compare the client's Basic credentials in constant time, the
 * gateway's own `PatService.verify`: parse, SHA-256, the one Redis script, the hash compare;
 * a JSON answer), without anything the gateway puts around it (access log, metrics, request
 * id and audit context, error mapping, security and CORS headers, drain). Started inside a
 * gateway's process, on that gateway's services.
 */
async function checkFloor(pats, user, authorization) {
  const { default: Koa } = await import('koa');
  const { createServer } = await import('node:http');
  const { timingSafeEqual } = await import('node:crypto');
  const expected = Buffer.from(authorization);
  const app = new Koa();
  app.use(async (ctx) => {
    const raw = await new Promise((resolve, reject) => {
      let text = '';
      ctx.req.setEncoding('utf8');
      ctx.req.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
    });
    const given = Buffer.from(ctx.get('authorization'));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      ctx.status = 401;
      return;
    }
    const use = await pats.verify(new URLSearchParams(raw).get('token') ?? '', ctx.ip);
    ctx.body = use
      ? { active: true, scope: use.token.scope, token_type: 'Bearer', exp: Math.floor(use.token.expiresAt / 1000), sub: use.user.id, username: use.user.username, jti: use.token.id }
      : { active: false };
  });
  return listen(createServer(app.callback()));
}

export async function serve() {
  let running = null;
  process.on('message', async (msg) => {
    try {
      if (msg.cmd === 'start') {
        const { close, ...info } = await servers[msg.kind](msg);
        running = close ?? null;
        process.send({ ok: true, ...info });
      } else if (msg.cmd === 'cpu') {
        const { user, system } = process.cpuUsage();
        process.send({ ok: true, cpuMicros: user + system });
      } else if (msg.cmd === 'exit') {
        await Promise.race([running?.(), new Promise((r) => setTimeout(r, 3000))]).catch(() => {});
        process.exit(0);
      }
    } catch (err) {
      process.send({ ok: false, error: err instanceof Error ? err.stack || err.message : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ok: true, ready: true });
}


if (process.argv.includes('--serve')) await serve();
