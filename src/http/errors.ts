/**
 * The one place errors become responses. Typed `TesseraError`s become `{error, error_description}`
 * (RFC 6749 §5.2 shape) with their status and headers; bearer failures get an RFC 6750
 * `WWW-Authenticate` challenge; anything unexpected is a bare 500 with no detail.
 */
import type { Context, Next } from 'koa';
import { TesseraError, TemporarilyUnavailable } from '../errors.js';

const BEARER_CODES = new Set(['invalid_token', 'insufficient_scope', 'unauthorized']);

function quote(value: string): string {
  return value.replace(/["\\]/g, '').replace(/[^\x20-\x7e]/g, '');
}

/** RFC 6750 §3: no error attribute when the request carried no credentials at all. */
function bearerChallenge(error?: TesseraError): string {
  const parts = ['realm="tessera"'];
  if (error && error.code !== 'unauthorized') {
    parts.push(`error="${error.code}"`, `error_description="${quote(error.message)}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}

/** Errors thrown by body parsers and Koa itself carry `status`/`expose`; map them too. */
function normalise(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; code?: string };
  const status = e?.status ?? e?.statusCode;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ETIMEDOUT') return new TemporarilyUnavailable();
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = status === 413 ? 'request body too large' : e.expose && e.message ? e.message : 'bad request';
    return new TesseraError(status, 'invalid_request', message);
  }
  return new TesseraError(500, 'server_error', 'internal error');
}

export async function errorHandler(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new TesseraError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    }
  } catch (raw) {
    const err = normalise(raw);
    if (err.status >= 500 && !(raw instanceof TesseraError)) {
      // Koa's own channel for unexpected errors; app.ts logs them (the failure, never the request).
      ctx.app.emit('error', raw, ctx);
    }
    ctx.status = err.status;
    ctx.set(err.headers);
    if (err.status === 401 && BEARER_CODES.has(err.code) && !ctx.state.noBearerChallenge) {
      ctx.set('WWW-Authenticate', bearerChallenge(err));
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.code, error_description: err.expose ? err.message : 'the server could not complete the request' };
  }
}
