/**
 * Rotation (GitHub "regenerate", GitLab `POST /personal_access_tokens/:id/rotate`): a new secret
 * for the same name, description and scopes, with the same expiry *policy* counted from now.
 * A fixed-expiry token gets its original lifetime again; a sliding one its window and its
 * maximum lifetime. Both are cut to today's caps (`tokens.maxTtl`, and the expiry of the PAT
 * making the request) rather than refused: rotating must not fail because a cap shrank.
 */
import type { TokenRecord } from '../store/records.js';

const seconds = (ms: number) => Math.max(1, Math.floor(ms / 1000));

/**
 * What `PatService.create` is asked for, in its input's field names (it checks the shape where it
 * calls this; no import back, so the two modules form no cycle).
 */
export type Renewal = { name: string; description: string | undefined; scopes: string[] } & (
  | { expiration: 'sliding'; sliding_window: number; max_lifetime: number }
  | { expiration: 'hard'; expires_in: number }
);

export function renewalOf(old: TokenRecord, now: number, maxTtl: number, ceiling: number | undefined): Renewal {
  const room = Math.min(maxTtl, ceiling === undefined ? Infinity : ceiling - now);
  const base = { name: old.name, description: old.description, scopes: old.scope.split(' ').filter(Boolean) };
  if (old.expiration === 'sliding') {
    const lifetime = Math.min((old.maxLifetimeAt ?? old.expiresAt) - old.createdAt, room);
    const window = Math.min(old.slidingWindow ?? lifetime, lifetime);
    return { ...base, expiration: 'sliding', sliding_window: seconds(window), max_lifetime: seconds(lifetime) };
  }
  return { ...base, expiration: 'hard', expires_in: seconds(Math.min(old.expiresAt - old.createdAt, room)) };
}
