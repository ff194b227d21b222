/**
 * Where Prometheus scrapes. On the main listener `GET /metrics` is closed unless `metrics.token`
 * is set, and then answers only `Authorization: Bearer <token>` (compared in constant time);
 * `metrics.listen` opens a second listener that serves `/metrics` alone, without auth, for a
 * scraper on a private network.
 */
import Router from '@koa/router';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { NotFound, Unauthorized } from '../errors.js';
import { readAuthorization } from '../http/credentials.js';
import type { Metrics } from './metrics.js';

/** Hashing first makes the comparison constant-time whatever the presented length. */
const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRoutes(metrics: Metrics, token: string | undefined): Router {
  const router = new Router();
  const expected = token === undefined ? undefined : digest(token);
  router.get('/metrics', async (ctx) => {
    if (!expected) throw new NotFound(`no route for GET /metrics`);
    let presented;
    try {
      presented = readAuthorization(ctx);
    } catch {
      presented = null;
    }
    if (presented?.scheme !== 'bearer' || !timingSafeEqual(digest(presented.token), expected)) {
      throw new Unauthorized('send the metrics token: Authorization: Bearer <metrics.token>');
    }
    const { contentType, body } = await metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  });
  return router;
}

/** Parses `host:port` (`[::1]:9464` for IPv6). */
function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(at + 1)) };
}

/** The separate, unauthenticated metrics listener. Resolves once it listens. */
export async function startMetricsListener(metrics: Metrics, listen: string): Promise<Server> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
