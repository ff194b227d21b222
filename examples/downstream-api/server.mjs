// A downstream API that trusts Tessera's tokens, caches introspection answers to stay fast, and
// never serves a revoked token from its cache: Tessera pushes a Security Event Token (SSF, RFC
// 8935) or a webhook the moment trust ends, and the matching cache entries are dropped.
//
//   TESSERA_URL=https://id.example.org CLIENT_ID=orders-api CLIENT_SECRET=... node server.mjs
//
// Cache keys are SHA-256 hashes of tokens (a dump of the cache reveals none). Entries are found
// by token id (a PAT event names exactly one) and by user (a session, account or role event
// covers everything of that user).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
/** Standard Webhooks: refuse a delivery whose timestamp is older (or newer) than this: a replay. */
const WEBHOOK_TOLERANCE_S = 5 * 60;

export function createDownstream({ tesseraUrl, clientId, clientSecret, cacheTtlMs = 10 * 60_000, webhookSecret }) {
  const jwks = createRemoteJWKSet(new URL(`${tesseraUrl}/oauth2/jwks`));
  const cache = new Map(); // sha256(token) -> { answer, until }
  const stats = { introspections: 0, dropped: 0 };

  const hash = (token) => createHash('sha256').update(token).digest('hex');

  async function introspect(token) {
    const key = hash(token);
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.answer;
    stats.introspections++;
    const res = await fetch(`${tesseraUrl}/oauth2/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    if (!res.ok) throw new Error(`introspection failed: ${res.status}`);
    const answer = await res.json();
    // Cached until the token's own expiry at most, like mod_auth_openidc; the events keep it honest.
    const until = Math.min(Date.now() + cacheTtlMs, answer.exp ? answer.exp * 1000 : Infinity);
    cache.set(key, { answer, until });
    return answer;
  }

  function drop(match) {
    for (const [key, entry] of cache) {
      if (match(entry.answer)) {
        cache.delete(key);
        stats.dropped++;
      }
    }
  }

  /** One event: a token id drops that token; anything else about a user drops all of theirs. */
  function forget({ tokenId, userId }) {
    if (tokenId) drop((a) => a.jti === tokenId);
    else if (userId) drop((a) => a.sub === userId);
  }

  function fromSet(payload) {
    const subject = payload.sub_id ?? {};
    const user = subject.user?.identifiers?.find((i) => i.format === 'iss_sub') ?? (subject.user?.format === 'iss_sub' ? subject.user : undefined);
    const tokenId = subject.token?.id;
    for (const type of Object.keys(payload.events ?? {})) {
      // A new credential takes nothing away; any other change (revoke, password update) does.
      if (type === `${CAEP}credential-change` && payload.events[type].change_type === 'create') continue;
      if (type === `${CAEP}credential-change`) forget({ tokenId, userId: tokenId ? undefined : user?.sub });
      else if ([`${CAEP}session-revoked`, `${CAEP}token-claims-change`, `${RISC}account-disabled`, `${RISC}account-purged`].includes(type)) forget({ userId: user?.sub });
    }
  }

  function webhookValid(headers, body) {
    const id = headers['webhook-id'];
    const ts = Number(headers['webhook-timestamp']);
    if (!webhookSecret || !id || !Number.isInteger(ts)) return false;
    if (Math.abs(Date.now() / 1000 - ts) > WEBHOOK_TOLERANCE_S) return false;
    const key = webhookSecret.startsWith('whsec_') ? Buffer.from(webhookSecret.slice(6), 'base64') : Buffer.from(webhookSecret);
    const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
    return String(headers['webhook-signature'] ?? '').split(' ').some((sig) => {
      const [version, mac] = sig.split(',');
      const given = Buffer.from(mac ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
  }

  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        size += c.length;
        if (size > 64 * 1024) reject(new Error('too large'));
        else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const app = new Koa();
  app.use(async (ctx) => {
    // RFC 8935 push endpoint: only SETs Tessera signed for us are acted on.
    if (ctx.method === 'POST' && ctx.path === '/ssf-events') {
      try {
        const { payload } = await jwtVerify(await readBody(ctx.req), jwks, { issuer: tesseraUrl, audience: clientId, typ: 'secevent+jwt' });
        fromSet(payload);
        ctx.status = 202;
      } catch {
        ctx.status = 400;
        ctx.body = { err: 'invalid_key', description: 'the SET did not verify' };
      }
      return;
    }
    if (ctx.method === 'POST' && ctx.path === '/webhooks') {
      const body = await readBody(ctx.req);
      if (!webhookValid(ctx.headers, body)) {
        ctx.status = 401;
        return;
      }
      const event = JSON.parse(body);
      const takesAway = !(event.type === 'credential-change' && event.data.change_type === 'create') && event.type !== 'token-expiring' && event.type !== 'account-enabled';
      if (takesAway) forget({ tokenId: event.type === 'credential-change' ? event.data.token_id : undefined, userId: event.data.user?.id });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/hello') {
      const token = /^Bearer (\S+)$/i.exec(ctx.get('authorization'))?.[1];
      const answer = token ? await introspect(token) : { active: false };
      if (!answer.active) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
        return;
      }
      ctx.body = { hello: answer.username ?? answer.sub };
      return;
    }
    ctx.status = 404;
  });
  return { app, cache, stats };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { app } = createDownstream({
    tesseraUrl: process.env.TESSERA_URL,
    clientId: process.env.CLIENT_ID,
    clientSecret: process.env.CLIENT_SECRET,
    webhookSecret: process.env.WEBHOOK_SECRET,
  });
  const port = Number(process.env.PORT ?? 8081);
  app.listen(port, () => console.log(`downstream API on http://localhost:${port}`));
}
