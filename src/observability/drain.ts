/**
 * Graceful shutdown, the HTTP side. Once draining starts:
 * - `/readyz` answers 503, so a load balancer or Kubernetes stops routing here;
 * - every response carries `Connection: close`, so a keep-alive client finishes its current
 *   request and opens its next connection elsewhere;
 * - `idle()` resolves when the last request in flight has been answered.
 * The listener itself stops accepting connections in server.ts.
 */
import type { Server } from 'node:http';
import type { Context, Next } from 'koa';
import type { Logger } from './logger.js';

export class Drain {
  private draining = false;
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  get active(): boolean {
    return this.draining;
  }

  start(): void {
    this.draining = true;
    this.settle();
  }

  /** Resolves once no request is in flight (at once if none is). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.settle();
    });
  }

  private settle(): void {
    if (this.inFlight > 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** First in the middleware chain: counts requests and applies the draining rules. */
  middleware() {
    // Named: the middleware chain is listed by name in the API completeness test.
    const drain = async (ctx: Context, next: Next): Promise<void> => {
      this.inFlight++;
      ctx.res.once('close', () => {
        this.inFlight--;
        this.settle();
      });
      if (this.draining) {
        ctx.set('Connection', 'close');
        if (ctx.path === '/readyz') {
          ctx.status = 503;
          ctx.set('Cache-Control', 'no-store');
          ctx.body = { status: 'shutting_down' };
          return;
        }
      }
      await next();
      // Draining may have begun while this request was being handled.
      if (this.draining && !ctx.res.headersSent) ctx.set('Connection', 'close');
    };
    return drain;
  }
}

/**
 * Closes `server` gracefully: it stops accepting connections, idle keep-alive connections close
 * at once, busy ones after their answer (`Connection: close`); after `graceMs` whatever is still
 * open is cut. Resolves once the server is closed.
 */
export async function drainServer(server: Server, drain: Drain, graceMs: number, logger: Logger): Promise<void> {
  drain.start();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), graceMs)));
  const outcome = await Promise.race([drain.idle().then(() => 'drained' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'deadline' && graceMs > 0) logger.warn({ graceSeconds: graceMs / 1000 }, 'shutdown grace period over: closing connections with requests still in flight');
  server.closeAllConnections();
  await closed;
}
