/**
 * JSON answers on the hot routes: serialised once, here, with the media type set up front, so
 * Koa neither looks the type up again nor serialises the body itself at respond time.
 */
import type { Context } from 'koa';

const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(ctx: Context, value: unknown): void {
  ctx.set('Content-Type', JSON_TYPE);
  ctx.body = JSON.stringify(value);
}
