/**
 * Errors below the web pages' routes become pages (not the API's JSON): a person reads them.
 * Other server errors go on to the app's error handler, which logs them and answers without
 * detail.
 */
import type { Context, Next } from 'koa';
import { NotFound, TemporarilyUnavailable, TesseraError } from '../../errors.js';
import { errorHeading, errorPage } from '../views/error-page.js';
import { showPage } from '../views/page.js';

export async function showErrorsAsPages(ctx: Context, next: Next) {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof TesseraError) || (err.status >= 500 && !(err instanceof TemporarilyUnavailable))) throw err;
    ctx.set(err.headers);
    const message = err.expose ? err.message : 'A service Tessera depends on is not answering. Try again in a moment.';
    showPage(ctx, { title: errorHeading(err.status), status: err.status, body: errorPage(err.status, message, Boolean(ctx.state.webPrincipal)) });
  }
}

/** Errors a person can fix in the form they sent; anything else becomes an error page. */
export const isFormProblem = (err: unknown): err is TesseraError =>
  err instanceof TesseraError && (err.status === 400 || err.status === 403 || err.status === 409);

/** The last route of an area: an unknown address inside it is a 404 page. */
export function notFoundPage(): never {
  throw new NotFound('There is no page at this address.');
}

/**
 * An address no route answered, asked for by a browser (Accept prefers text/html over JSON):
 * the 404 page instead of the API's JSON error. curl, fetch and API clients (any type, or
 * application/json, accepted) keep the JSON answer the error handler gives.
 */
export async function notFoundForBrowsers(ctx: Context, next: Next) {
  await next();
  if (ctx.status !== 404 || ctx.body !== undefined || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return;
  if (ctx.accepts('json', 'html') !== 'html') return;
  await showErrorsAsPages(ctx, async () => notFoundPage());
}
