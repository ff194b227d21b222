/**
 * Stored shapes. Plain JSON-able data: the Redis store keeps each as one JSON string that its Lua
 * scripts can decode. Scopes are one space-separated string (RFC 6749 §3.3) rather than an array
 * because Redis' cjson cannot tell an empty array from an empty object.
 */
/**
 * A token's `hash` as every store accepts it: the SHA-256 of the secret in lowercase hex
 * (tokens/format.ts). A store refuses to insert anything else (RangeError) and finds nothing for it.
 */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export type Role = 'admin' | 'normal';

export interface UserRecord {
  /** Stable random id (12 base62 chars); carried inside every token the user owns. */
  id: string;
  username: string;
  displayName: string;
  email: string;
  role: Role;
  enabled: boolean;
  /** Identity source id: `local`, or the configured id of an LDAP/SAML source. */
  source: string;
  groups: string[];
  /** scrypt hash (`scrypt$N$r$p$salt$hash`), local users only. */
  passwordHash?: string;
  createdAt: number;
  updatedAt: number;
  /** Login sessions created before this instant are void (set on password reset / disable). */
  sessionsNotBefore: number;
  /**
   * Every credential issued before this instant is void: PATs, login sessions, provider tokens.
   * Set by "revoke all of a user's tokens" and the emergency switch; checked on each hot path.
   */
  credentialsNotBefore?: number;
}

export type Expiration = 'hard' | 'sliding';

export interface TokenRecord {
  id: string;
  userId: string;
  name: string;
  description: string;
  /** Space-separated scopes; empty means the owner's full rights. */
  scope: string;
  expiration: Expiration;
  createdAt: number;
  /** Current expiry. For sliding tokens it moves forward on use, never past maxLifetimeAt. */
  expiresAt: number;
  /** Sliding tokens: window length (ms) and absolute cap. */
  slidingWindow?: number;
  maxLifetimeAt?: number;
  /** Username of whoever created it (the owner, or an admin on their behalf). */
  createdBy: string;
  /** The PAT it was created with, if any: revoking that one revokes this one too. */
  parentId?: string;
  lastUsedAt?: number;
  lastUsedIp?: string;
  revokedAt?: number;
  revokedBy?: string;
  /** SHA-256 (hex) of the secret. The secret itself is never stored. */
  hash: string;
  /** The token this one replaced by rotation (which was revoked then). */
  rotatedFrom?: string;
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  /** Absolute end of the login: refresh tokens never outlive it. */
  expiresAt: number;
  /** Hash of the current (latest) refresh token. */
  refreshHash: string;
  ip: string;
  revokedAt?: number;
  /** The User-Agent the login came from (trimmed), shown in the user's session list. */
  userAgent?: string;
  /** `api`: POST /api/v1/login (access + refresh pair); `browser`: a web sign-in's cookie. */
  kind?: 'api' | 'browser';
  /** When the refresh token was last rotated. */
  lastRefreshAt?: number;
}
