import type { UserRecord } from '../store/records.js';

/** Who is calling, and with what: the result of every successful bearer or Basic check. */
export interface Principal {
  user: UserRecord;
  /**
   * `session`: a login access token; `oidc`: an access token the OpenID Provider issued to the
   * Tessera CLI (both full rights); `pat`: a personal access token.
   */
  via: 'session' | 'oidc' | 'pat';
  /** Scopes the credential is limited to; null means the user's full rights. */
  scopes: string[] | null;
  tokenId?: string;
  sessionId?: string;
  /** A PAT cannot mint a token that outlives it: its current expiry is the latest it may grant. */
  expiryCeiling?: number;
  /** When the credential was issued (ms): checked again after a write a revoke-all must not miss. */
  issuedAt?: number;
}

export const isAdmin = (p: Principal): boolean => p.user.role === 'admin' && p.scopes === null;
