/**
 * How a running sign-in is shown to its user and to admins: when and where it started, when it
 * last refreshed, from which browser or client, and through which kind of sign-in. Never its
 * token hashes.
 */
import type { SessionRecord, UserRecord } from '../store/records.js';
import type { ProviderSignIn } from '../tokens/provider-sign-ins.js';
import type { RunningSignIns } from '../tokens/login-sessions.js';

export interface PresentedSession {
  id: string;
  /**
   * `api`: POST /api/v1/login; `browser`: a web sign-in; `sso`: `tessera login --sso` (the CLI's
   * device flow); `oidc-client`: an application signed in through Tessera's OpenID Provider.
   */
  kind: 'api' | 'browser' | 'sso' | 'oidc-client';
  created_at: string;
  last_refresh_at: string | null;
  /** null: a provider grant without an end of its own (its tokens still expire). */
  expires_at: string | null;
  /** null for provider sign-ins: the provider does not keep where they came from. */
  ip: string | null;
  user_agent: string | null;
  /** The identity source of the user (local, an LDAP or SAML source id). */
  source: string;
  /** The session the request itself comes with. */
  current: boolean;
  /** Provider sign-ins: the OAuth client, its display name and the scopes granted to it. */
  client_id?: string;
  client_name?: string;
  scopes?: string[];
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function presentSession(session: SessionRecord, user: UserRecord, currentId?: string): PresentedSession {
  return {
    id: session.id,
    kind: session.kind ?? 'api',
    created_at: new Date(session.createdAt).toISOString(),
    last_refresh_at: iso(session.lastRefreshAt),
    expires_at: new Date(session.expiresAt).toISOString(),
    ip: session.ip,
    user_agent: session.userAgent ?? null,
    source: user.source,
    current: session.id === currentId,
  };
}

export function presentProviderSignIn(grant: ProviderSignIn, user: UserRecord): PresentedSession {
  return {
    id: grant.id,
    kind: grant.kind,
    created_at: new Date(grant.createdAt).toISOString(),
    last_refresh_at: iso(grant.lastRefreshAt),
    expires_at: iso(grant.expiresAt),
    ip: null,
    user_agent: null,
    source: user.source,
    current: false,
    client_id: grant.clientId,
    client_name: grant.clientName,
    scopes: grant.scopes,
  };
}

/** Logins and provider sign-ins together, oldest first. */
export function presentSignIns(running: RunningSignIns, user: UserRecord, currentId?: string): PresentedSession[] {
  return [...running.logins.map((s) => presentSession(s, user, currentId)), ...running.grants.map((g) => presentProviderSignIn(g, user))]
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}
