/**
 * How a login session is shown to its user and to admins: when and where it started, when it
 * last refreshed, from which browser or client, and through which kind of sign-in. Never its
 * token hashes.
 */
import type { SessionRecord, UserRecord } from '../store/records.js';

export interface PresentedSession {
  id: string;
  /** `api`: POST /api/v1/login; `browser`: a web sign-in. */
  kind: 'api' | 'browser';
  created_at: string;
  last_refresh_at: string | null;
  expires_at: string;
  ip: string;
  user_agent: string | null;
  /** The identity source of the user (local, an LDAP or SAML source id). */
  source: string;
  /** The session the request itself comes with. */
  current: boolean;
}

export function presentSession(session: SessionRecord, user: UserRecord, currentId?: string): PresentedSession {
  return {
    id: session.id,
    kind: session.kind ?? 'api',
    created_at: new Date(session.createdAt).toISOString(),
    last_refresh_at: session.lastRefreshAt === undefined ? null : new Date(session.lastRefreshAt).toISOString(),
    expires_at: new Date(session.expiresAt).toISOString(),
    ip: session.ip,
    user_agent: session.userAgent ?? null,
    source: user.source,
    current: session.id === currentId,
  };
}
