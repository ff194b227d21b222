/**
 * What the API shows of stored records. Never a secret or a hash: a PAT secret appears once, in
 * the creation response, and nowhere else.
 */
import type { TokenRecord, UserRecord } from '../store/records.js';
import { tokenStatus } from '../tokens/pat-service.js';
import { splitScopes } from '../tokens/scopes.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function presentToken(token: TokenRecord, owner: UserRecord, now: number) {
  return {
    id: token.id,
    name: token.name,
    description: token.description,
    user: owner.username,
    user_source: owner.source,
    scopes: splitScopes(token.scope),
    expiration: token.expiration,
    status: tokenStatus(token, now),
    created_at: iso(token.createdAt),
    created_by: token.createdBy,
    created_with_token: token.parentId ?? null,
    rotated_from: token.rotatedFrom ?? null,
    expires_at: iso(token.expiresAt),
    sliding_window: token.slidingWindow === undefined ? null : token.slidingWindow / 1000,
    max_lifetime_at: iso(token.maxLifetimeAt),
    last_used_at: iso(token.lastUsedAt),
    last_used_ip: token.lastUsedIp ?? null,
    revoked_at: iso(token.revokedAt),
    revoked_by: token.revokedBy ?? null,
  };
}

export function presentUser(user: UserRecord, extra: { token_creator: boolean }) {
  return {
    id: user.id,
    username: user.username,
    display_name: user.displayName,
    email: user.email,
    role: user.role,
    enabled: user.enabled,
    source: user.source,
    groups: user.groups,
    token_creator: extra.token_creator,
    created_at: iso(user.createdAt),
    updated_at: iso(user.updatedAt),
  };
}
