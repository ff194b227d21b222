/**
 * Reading an audit query from URL parameters, shared by the REST API and the admin page so both
 * accept the same filters: `actor`, `user`, `token`, `type`, `outcome`, `since`, `until` (ISO 8601, or a
 * duration back from now such as `24h` or `7d`), `before` / `after` (cursors), `limit`.
 */
import { parseDuration } from '../config/duration.js';
import { InvalidRequest } from '../errors.js';
import type { AuditOutcome } from './event.js';
import { checkCursor, MAX_PAGE, type AuditPageRequest } from './query.js';

const OUTCOMES: AuditOutcome[] = ['succeeded', 'failed', 'attempted'];

type Query = Record<string, string | string[] | undefined>;

function one(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new InvalidRequest(`${name} may be given once`);
  if (value === undefined || value === '') return undefined;
  if (value.length > 200) throw new InvalidRequest(`${name} is too long`);
  return value;
}

/** An instant: ISO 8601, or a duration back from `now`. */
export function instant(value: string | undefined, name: string, now: number): number | undefined {
  if (value === undefined) return undefined;
  const relative = /^\d+(\.\d+)?[smhd]$/.test(value) ? parseDuration(value) : undefined;
  if (relative !== undefined) return now - relative;
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(at)) throw new InvalidRequest(`${name} must be an ISO 8601 time or a duration such as 24h`);
  return at;
}

export function auditPageRequest(query: Query, now: number, defaultLimit = 50): AuditPageRequest {
  const rawLimit = one(query, 'limit');
  const limit = rawLimit === undefined ? defaultLimit : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidRequest(`limit must be a whole number from 1 to ${MAX_PAGE}`);
  const since = instant(one(query, 'since'), 'since', now);
  const until = instant(one(query, 'until'), 'until', now);
  if (since !== undefined && until !== undefined && since > until) throw new InvalidRequest('since is after until');
  const outcome = one(query, 'outcome');
  if (outcome !== undefined && !OUTCOMES.includes(outcome as AuditOutcome)) throw new InvalidRequest(`outcome is one of ${OUTCOMES.join(', ')}`);
  return {
    filter: { actor: one(query, 'actor'), user: one(query, 'user'), tokenId: one(query, 'token'), type: one(query, 'type'), since, until, outcome: outcome as AuditOutcome | undefined },
    before: checkCursor(one(query, 'before'), 'before'),
    after: checkCursor(one(query, 'after'), 'after'),
    limit,
  };
}
