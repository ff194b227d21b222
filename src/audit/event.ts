/**
 * The one audit event model. Every security-relevant action, whatever the door it came through
 * (REST API, web pages, CLI, OpenID Provider, background jobs), becomes one `AuditEvent`: kept in
 * the store for `audit.retention` and written as one JSON line to the log stream.
 *
 * An event names people and things by id and name, never by secret: no token, password, key,
 * Authorization header or SAML response ever goes in (redact.ts enforces it once more).
 */

const AUDIT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'session.refresh_reused',
  'logout',
  'token.created',
  'token.edited',
  'token.revoked',
  'token.evicted',
  'token.rotated',
  'token.exchanged',
  'token.leak_reported',
  'token.revoked_all_of_user',
  'token.revoked_everything',
  'user.created',
  'user.changed',
  'user.disabled',
  'user.deleted',
  'user.password_reset',
  'user.disabled_by_revalidation',
  'saml.signed_in',
  'saml.rejected',
  'sso.signed_in',
  'sso.rejected',
  'oidc.grant_revoked',
  'keys.rotated',
  'client.auth_failed',
  'config.loaded',
  'ssf.stream_changed',
] as const;

export type AuditType = (typeof AUDIT_TYPES)[number];

/**
 * Names events had before, and the type each is recorded as now. Stored events keep their old
 * name; a query by either name finds both (`matchesType`).
 */
const RENAMED_TYPES: Record<string, AuditType> = {
  // Re-validation disables users of every source kind that can look a user up again, not only LDAP.
  'ldap.user_disabled_by_revalidation': 'user.disabled_by_revalidation',
};

const currentName = (type: string): string => RENAMED_TYPES[type] ?? type;

/**
 * The audit query's type filter: a prefix of the event type (`token.` finds every token event),
 * compared under today's names, so an old event is found by its new name and a new one by the
 * name it had before.
 */
export function matchesType(eventType: string, filter: string): boolean {
  return eventType.startsWith(filter) || currentName(eventType).startsWith(currentName(filter));
}

/**
 * `attempted`: written before a state change; it stays only if the process died (or the store
 * failed) before the outcome could replace it, so it means "may have happened".
 */
export type AuditOutcome = 'succeeded' | 'failed' | 'attempted';

/**
 * The credential the actor used: a login session (API or browser), a PAT, an OpenID Provider
 * login (`oidc`), an OAuth client's secret, a password or SAML assertion (at sign-in), an upstream
 * OpenID Provider's ID token (`sso`, at sign-in), the gateway itself (`system`: start-up,
 * background jobs), or none.
 */
export type AuditCredential = 'session' | 'pat' | 'oidc' | 'client' | 'password' | 'saml' | 'sso' | 'system' | 'anonymous';

export interface AuditActor {
  credential: AuditCredential;
  userId?: string;
  username?: string;
  /** The PAT used (credential `pat`). */
  tokenId?: string;
  /** The OAuth client (credential `client`, or the client an OIDC login came through). */
  clientId?: string;
}

export interface AuditTarget {
  userId?: string;
  username?: string;
  tokenId?: string;
  clientId?: string;
}

/** Extra facts about the action: changed field names, counts, ids. Never values of secrets. */
export type AuditDetails = Record<string, string | number | boolean | string[] | null>;

export interface AuditEvent {
  /** Stable across the attempted entry and its outcome. */
  id: string;
  /** ISO 8601. */
  time: string;
  type: AuditType;
  outcome: AuditOutcome;
  /** Why it failed, as a class (`invalid_credentials`, `signature`, `forbidden`, ...), never a message with input in it. */
  reason?: string;
  actor: AuditActor;
  target?: AuditTarget;
  /** The identity source involved (`local`, an LDAP or SAML source id). */
  source?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
  details?: AuditDetails;
}

/** What a service says when it records an event; the trail adds id, time and the request's context. */
export interface AuditRecord {
  type: AuditType;
  outcome?: AuditOutcome;
  reason?: string;
  /** Default: the request's authenticated caller, else `anonymous` (or `system` outside a request). */
  actor?: AuditActor;
  target?: AuditTarget;
  source?: string;
  details?: AuditDetails;
}
