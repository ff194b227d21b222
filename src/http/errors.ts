/**
 * The one place errors become responses, as node-oidc-provider's `shared/error_handler.js` does
 * it: every error thrown below the app's error middleware is normalised to a `TesseraError`, then
 * answered by route area.
 *
 * - The API and the OAuth endpoints (the default area) answer `{error, error_description}`
 *   (RFC 6749 §5.2, RFC 7662), with the error's headers (Retry-After, WWW-Authenticate) and an
 *   RFC 6750 bearer challenge on 401s; anything unexpected is a bare 500 with no detail.
 * - Areas people read (`errorsAsPages`: the web pages, the redirect sign-in endpoints, the OIDC
 *   login interaction) answer an HTML page with the same status and headers, in the words of
 *   `PAGE_MESSAGES`. So does an unknown address a browser asked for.
 *
 * A store outage is 503 `temporarily_unavailable` with Retry-After in every area. The HTML itself
 * is the web layer's: the composition root hands the renderer in, so this module imports nothing
 * from `web/`.
 */
import type { Context, Middleware, Next } from 'koa';
import { NotFound, TemporarilyUnavailable, TesseraError, oauthErrorBody } from '../errors.js';

/** Where a request is: the API (JSON) unless a page router marked it with `errorsAsPages`. */
export type ErrorArea = 'api' | 'pages' | 'sign-in' | 'interaction';

interface PageMessage {
  title: string;
  /** The page's heading when it differs from the title. */
  heading?: string;
  /** Replaces the error's own message (which is written for the API, or is not to be shown). */
  sentence?: string;
}

/**
 * What an error page says, by status, then by the sign-in areas' own cases. Client errors without
 * a sentence here show their own message: it is written for the person who caused it. Server
 * errors always use the sentence here, never the error's detail.
 */
export const PAGE_MESSAGES = {
  400: { title: 'That did not work' },
  403: { title: 'Not allowed' },
  404: { title: 'Not found' },
  409: { title: 'That already exists' },
  413: { title: 'That was too large' },
  429: { title: 'Too many attempts' },
  500: { title: 'Something went wrong', sentence: 'The server could not complete the request. Try again in a moment.' },
  503: { title: 'Temporarily unavailable', sentence: 'A service Tessera depends on is not answering. Try again in a moment.' },
  /** An address no route answers. */
  no_page: { title: 'Not found', sentence: 'There is no page at this address.' },
  /** A redirect sign-in (SAML, upstream OpenID Connect) refused: the rule that failed is the error's message. */
  sign_in_failed: { title: 'Sign-in failed' },
  /** oidc-provider refused the interaction a redirect sign-in finishes: no `_interaction` cookie, or it ended. */
  sign_in_expired: { title: 'Sign-in failed', sentence: 'This application login has expired or was started in another browser: go back to the application and start again.' },
  /** The identity provider a redirect sign-in needs did not answer. */
  identity_provider_unavailable: { title: 'Sign-in failed', sentence: 'The identity provider cannot be reached right now. Try again in a minute.' },
  /** The OIDC login interaction is over or belongs to another browser. */
  interaction_expired: { title: 'Sign-in expired', heading: 'This sign-in request has expired or is not yours', sentence: 'Go back to the application and start signing in again.' },
  /**
   * A password sign-in refused (the sign-in page, the OIDC login interaction): the same words
   * whatever went wrong, so a page does not reveal which usernames exist.
   */
  sign_in_refused: { title: 'Sign in', sentence: 'Sign-in failed: the username or password is not right, or the account cannot sign in.' },
  /** Too many failed password attempts for the account, address or device. */
  sign_in_throttled: { title: 'Sign in', sentence: 'Too many failed attempts. Please wait a few minutes and try again.' },
  /** Too many attempts for the same account being checked at this moment (none failed). */
  sign_in_busy: { title: 'Sign in', sentence: 'Too many sign-in attempts are running at the same time. Please try again in a moment.' },
  /** The store or a directory did not answer a password sign-in. */
  sign_in_unavailable: { title: 'Sign in', sentence: 'Signing in is not possible right now because a directory is not answering. Please try again shortly.' },
  /** oidc-provider's own protocol errors shown to a person (its `renderError`); the sentence follows the error code. */
  provider_error: { title: 'Sign-in problem', heading: 'Something is wrong with this sign-in request', sentence: "Go back to the application and start again. If this keeps happening, tell the application's administrator." },
} satisfies Record<string, PageMessage>;

/** An error page, ready for the web layer to put in the page frame. */
export interface ErrorPage {
  status: number;
  title: string;
  heading: string;
  sentence: string;
  /** Where to go next, if anywhere. */
  link?: { href: string; text: string };
  /** The alert's element id: sign-in pages use `sign-in-error`, which tests and scripts look for. */
  alertId?: string;
}

export type ErrorPageRenderer = (ctx: Context, page: ErrorPage) => void;

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

/** Errors thrown by body parsers, Koa and oidc-provider carry `status`/`expose`; map them too. */
function normalise(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; code?: string };
  const status = e?.status ?? e?.statusCode;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ETIMEDOUT') return new TemporarilyUnavailable();
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = status === 413 ? 'request body too large' : e.expose && e.message ? e.message : 'bad request';
    return new TesseraError(status, 'invalid_request', message);
  }
  if (status === 503) return new TemporarilyUnavailable();
  return new TesseraError(500, 'server_error', 'internal error');
}

/** Service messages are written for the API ("name is required"); on a page they read as sentences. */
export function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The title for a status (pages and forms that show an error in place). */
function errorTitle(status: number): string {
  const known = PAGE_MESSAGES[status as keyof typeof PAGE_MESSAGES] as PageMessage | undefined;
  return known?.title ?? (status >= 500 ? PAGE_MESSAGES[500].title : PAGE_MESSAGES[400].title);
}

/** The generic pages (tokens, admin, account, sign-in form). */
function generalPage(ctx: Context, err: TesseraError): ErrorPage {
  const known: PageMessage | undefined = (PAGE_MESSAGES[err.status as keyof typeof PAGE_MESSAGES] as PageMessage | undefined) ?? (err.status >= 500 ? PAGE_MESSAGES[500] : undefined);
  const title = errorTitle(err.status);
  const said = err.expose ? sentence(err.message) : (known?.sentence ?? PAGE_MESSAGES[500].sentence);
  const link = ctx.state.webPrincipal ? { href: '/manage_tokens', text: 'Go to your tokens' } : { href: '/login', text: 'Sign in' };
  return { status: err.status, title, heading: known?.heading ?? title, sentence: said, link };
}

/** The redirect sign-in endpoints: our refusals name the rule; oidc-provider's mean the login is over. */
function signInPage(raw: unknown, err: TesseraError): ErrorPage {
  const message =
    raw instanceof TesseraError && (err.expose || err.status === 503)
      ? { ...PAGE_MESSAGES.sign_in_failed, sentence: err.message }
      : err.status === 503
        ? PAGE_MESSAGES.identity_provider_unavailable
        : err.status >= 500
          ? { ...PAGE_MESSAGES.sign_in_failed, sentence: PAGE_MESSAGES[500].sentence }
          : PAGE_MESSAGES.sign_in_expired;
  return { status: err.status, title: message.title, heading: message.title, sentence: message.sentence, link: { href: '/', text: 'Start again' }, alertId: 'sign-in-error' };
}

/** The OIDC login interaction: a client error means the interaction is over or not this browser's. */
function interactionPage(err: TesseraError): ErrorPage {
  if (err.status >= 500) return { status: err.status, title: errorTitle(err.status), heading: errorTitle(err.status), sentence: (PAGE_MESSAGES[err.status === 503 ? 503 : 500]).sentence };
  const { title, heading, sentence: said } = PAGE_MESSAGES.interaction_expired;
  return { status: err.status, title, heading, sentence: said };
}

/** A browser's GET for an address nothing answered (Accept prefers HTML over JSON). */
const browserWantsPage = (ctx: Context): boolean => (ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.accepts('json', 'html') === 'html';

/**
 * The app's error middleware. `renderPage` puts an `ErrorPage` in the page frame; it is the web
 * layer's, handed in by the composition root.
 */
export function respondToErrors(renderPage: ErrorPageRenderer): Middleware {
  return async function errorResponses(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        if (browserWantsPage(ctx)) ctx.state.errorArea = 'pages';
        throw new NotFound(ctx.state.errorArea === 'pages' ? PAGE_MESSAGES.no_page.sentence : `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (raw) {
      const err = normalise(raw);
      if (err.status >= 500 && !(raw instanceof TesseraError)) {
        // Koa's own channel for unexpected errors; app.ts logs them (the failure, never the request).
        ctx.app.emit('error', raw, ctx);
      }
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.set('Cache-Control', 'no-store');
      const area = (ctx.state.errorArea as ErrorArea | undefined) ?? 'api';
      if (area === 'pages') return renderPage(ctx, generalPage(ctx, err));
      if (area === 'sign-in') return renderPage(ctx, signInPage(raw, err));
      if (area === 'interaction') return renderPage(ctx, interactionPage(err));
      if (err.status === 401 && BEARER_CODES.has(err.code) && !ctx.state.noBearerChallenge) {
        ctx.set('WWW-Authenticate', bearerChallenge(err));
      }
      ctx.body = oauthErrorBody(err);
    }
  };
}

/**
 * Marks the routes below as an area people read: their errors become pages. A page router uses
 * it first (`router.use(errorsAsPages('pages'))`); the error itself propagates to
 * `respondToErrors`, which alone renders it.
 */
export function errorsAsPages(area: Exclude<ErrorArea, 'api'>): Middleware {
  return async function markArea(ctx: Context, next: Next): Promise<void> {
    ctx.state.errorArea = area;
    await next();
  };
}

/** Errors a person can fix in the form they sent; anything else becomes an error page. */
export const isFormProblem = (err: unknown): err is TesseraError => err instanceof TesseraError && (err.status === 400 || err.status === 403 || err.status === 409);

/** The last route of a page area: an unknown address inside it is a 404 page. */
export function notFoundPage(): never {
  throw new NotFound(PAGE_MESSAGES.no_page.sentence);
}
