/**
 * Opens the request context (src/audit/context.ts) for everything below it: the request id,
 * the client IP (after the trusted-proxy rules) and user agent, which audit events then carry.
 *
 * `X-Request-Id`: a well-formed id from the client or a proxy is kept, so one id follows the
 * request across systems; anything else (absent, too long, odd characters that could forge log
 * fields) is replaced by a fresh one. Either way it is echoed on the response.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { runInRequest } from '../audit/context.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function requestContext(ctx: Context, next: Next): Promise<void> {
  const given = ctx.get('X-Request-Id');
  const requestId = REQUEST_ID.test(given) ? given : randomUUID();
  ctx.state.requestId = requestId;
  ctx.set('X-Request-Id', requestId);
  const userAgent = ctx.get('User-Agent') || undefined;
  await runInRequest({ requestId, ip: ctx.ip, userAgent }, next);
}
