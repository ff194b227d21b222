/**
 * Graceful shutdown, the HTTP side. Once draining starts:
 * - `/readyz` answers 503, so a load balancer or Kubernetes stops routing here;
 * - every response carries `Connection: close`, so a keep-alive client finishes its current
 *   request and opens its next connection elsewhere;
 * - `idle()` resolves when the last request in flight has been answered.
 * The listener itself stops accepting connections in server.ts.
 */
import type { Context, Next } from 'koa';

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
    return async (ctx: Context, next: Next): Promise<void> => {
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
  }
}
