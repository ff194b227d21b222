/**
 * Every error a client can see, declared once. Each class carries the HTTP status and the
 * OAuth-style `error` code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7662, RFC 7009 all share this
 * vocabulary). `src/http/errors.ts` alone turns them into response bodies.
 *
 * `expose` follows Koa's rule: only client errors (< 500) show their description.
 */
export class TesseraError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = status < 500;
    this.headers = headers;
  }
}

/** 400: malformed body, wrong types, missing or contradictory parameters. */
export class InvalidRequest extends TesseraError {
  constructor(description: string) {
    super(400, 'invalid_request', description);
  }
}

/** 400 with the `invalid_scope` code: a scope the caller may not grant or that is malformed. */
export class InvalidScope extends TesseraError {
  constructor(description: string) {
    super(400, 'invalid_scope', description);
  }
}

/** 401: no usable credentials. Bearer challenges are added by the HTTP layer. */
export class Unauthorized extends TesseraError {
  constructor(description = 'authentication required', code = 'unauthorized') {
    super(401, code, description);
  }
}

/** 401 `invalid_token` (RFC 6750 §3.1): a bearer token was presented but is not active. */
export class InvalidToken extends TesseraError {
  constructor(description = 'the access token is invalid, expired or revoked') {
    super(401, 'invalid_token', description);
  }
}

/** 401 `invalid_client` (RFC 6749 §5.2): client authentication failed. */
export class InvalidClient extends TesseraError {
  constructor(description = 'client authentication failed') {
    super(401, 'invalid_client', description, { 'WWW-Authenticate': 'Basic realm="tessera"' });
  }
}

/** 400 `unsupported_token_type` (RFC 7009 §2.2.1): this client may not revoke tokens of this kind. */
export class UnsupportedTokenType extends TesseraError {
  constructor(description: string) {
    super(400, 'unsupported_token_type', description);
  }
}

/** 400 `invalid_grant` (RFC 6749 §5.2): bad, expired, reused or revoked refresh token or credentials. */
export class InvalidGrant extends TesseraError {
  constructor(description: string) {
    super(400, 'invalid_grant', description);
  }
}

/** 403: authenticated, but not allowed. */
export class Forbidden extends TesseraError {
  constructor(description = 'not allowed', code = 'access_denied') {
    super(403, code, description);
  }
}

/** 403 `insufficient_scope` (RFC 6750 §3.1): the token's scopes do not cover the request. */
export class InsufficientScope extends TesseraError {
  /** `scope`: what the request needs, named in the RFC 6750 §3 challenge so a client can ask for it. */
  constructor(description = 'the token does not carry the scope this request needs', scope?: string[]) {
    const named = scope?.length ? `, scope="${scope.join(' ').replace(/["\\]/g, '').replace(/[^\x20-\x7e]/g, '')}"` : '';
    super(403, 'insufficient_scope', description, { 'WWW-Authenticate': `Bearer realm="tessera", error="insufficient_scope"${named}` });
  }
}

export class NotFound extends TesseraError {
  constructor(description = 'not found') {
    super(404, 'not_found', description);
  }
}

export class Conflict extends TesseraError {
  constructor(description: string) {
    super(409, 'conflict', description);
  }
}

export class PayloadTooLarge extends TesseraError {
  constructor(description = 'request body too large') {
    super(413, 'invalid_request', description);
  }
}

export class UnsupportedMediaType extends TesseraError {
  constructor(description: string) {
    super(415, 'invalid_request', description);
  }
}

/** 429: throttled (login failures). Carries Retry-After. */
export class TooManyRequests extends TesseraError {
  constructor(retryAfterSeconds: number, description = 'too many failed attempts, try again later') {
    super(429, 'too_many_requests', description, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/**
 * 429 for a sign-in refused because too many attempts for the same account, address or device
 * are being checked at this moment, not because any failed. Each attempt is counted before its
 * password is checked (so parallel guesses cannot overshoot a limit); a client sending many at
 * once is told to retry in a moment, in words that do not claim failures that never happened.
 */
export class TooManyConcurrentAttempts extends TooManyRequests {
  constructor() {
    super(1, 'too many sign-in attempts at the same time, try again in a moment');
  }
}

/**
 * 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1): the store or a directory is unreachable.
 * Raised instead of guessing, so a dead Redis never turns into an "active" token.
 */
export class TemporarilyUnavailable extends TesseraError {
  constructor(description = 'a backing service is unavailable, try again later') {
    super(503, 'temporarily_unavailable', description, { 'Retry-After': '1' });
  }
}

/** 400 `invalid_target` (RFC 8707 §2): a resource the client may not have or that does not exist. */
export class InvalidTarget extends TesseraError {
  constructor(description: string) {
    super(400, 'invalid_target', description);
  }
}

/**
 * 503 `temporarily_unavailable` because a third party Tessera relies on (a workload issuer's
 * JWKS) did not answer. Unlike other 5xx the description is shown: it names only the outside
 * service, which the caller needs to know to tell "retry later" from "fix my request".
 */
export class UpstreamUnavailable extends TemporarilyUnavailable {
  override readonly expose = true;
}

/**
 * The RFC 6749 §5.2 body of an error, wherever it is written (the app's error mapper, the 503 the
 * OpenID Provider answers during a store outage): server errors carry no detail.
 */
export function oauthErrorBody(err: TesseraError): { error: string; error_description: string } {
  return { error: err.code, error_description: err.expose ? err.message : 'the server could not complete the request' };
}
