/**
 * The request context (src/audit/context.ts): the request id, the client IP (after the
 * trusted-proxy rules) and user agent, which audit events and access lines then carry.
 *
 * `X-Request-Id`: a well-formed id from the client or a proxy is kept, so one id follows the
 * request across systems; anything else (absent, too long, odd characters that could forge log
 * fields) is replaced by a fresh one. Either way it is echoed on the response.
 *
 * Most routes run inside the context (`requestContext`, AsyncLocalStorage), so services record
 * events without being handed it. The two hot routes (http/hot-routes.ts) only open it
 * (`openRequest`) and pass it on explicitly: on Node 20, code running inside AsyncLocalStorage
 * pays a promise hook on every promise it makes, a large part of a token check's cost.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { runInRequest, type RequestContext } from '../audit/context.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the request's context, echoes its id and keeps it on `ctx.state.request`. */
export function openRequest(ctx: Context): RequestContext {
  const given = ctx.get('X-Request-Id');
  const requestId = REQUEST_ID.test(given) ? given : randomUUID();
  ctx.state.requestId = requestId;
  ctx.set('X-Request-Id', requestId);
  const context: RequestContext = { requestId, ip: ctx.ip, userAgent: ctx.get('User-Agent') || undefined };
  ctx.state.request = context;
  return context;
}

/** The context `openRequest` made for this request (the same object AsyncLocalStorage holds). */
export const requestOf = (ctx: Context): RequestContext | undefined => ctx.state.request as RequestContext | undefined;

/** Runs `fn` inside the request's context: for the services a hot route hands work to. */
export function inRequest<T>(ctx: Context, fn: () => T): T {
  const context = requestOf(ctx);
  return context ? runInRequest(context, fn) : fn();
}

/** Opens the context for everything below it. */
export async function requestContext(ctx: Context, next: Next): Promise<void> {
  await runInRequest(openRequest(ctx), next);
}
