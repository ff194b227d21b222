/**
 * Reading the trail: filters and cursor pagination, newest first. The store only reads id
 * ranges; the filters are applied here, scanning at most `MAX_SCAN` entries per page so a filter
 * that matches nothing cannot make one request read the whole trail: the page then ends early
 * and `next` says where to continue.
 */
import { InvalidRequest } from '../errors.js';
import { AUDIT_ENTRY_ID } from '../store/audit-entries.js';
import type { Store } from '../store/store.js';
import { matchesType, type AuditEvent } from './event.js';

export interface AuditFilter {
  /** Actor: username or user id. */
  actor?: string;
  /** Target user: username or user id. */
  user?: string;
  tokenId?: string;
  /** Type prefix: `token.` matches every token event, `login.failed` just that one. */
  type?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  until?: number;
  outcome?: AuditEvent['outcome'];
  /** Events where this user id is the actor or the target (a user's own security log). */
  involving?: string;
}

export interface AuditPageRequest {
  filter: AuditFilter;
  /** Cursor from a previous page: events older than it. */
  before?: string;
  /** Cursor: only events newer than it (for following the trail). */
  after?: string;
  limit: number;
}

/** A stored event with its cursor, as the API presents it. */
export type ListedEvent = AuditEvent & { cursor: string };

export interface AuditPage {
  events: ListedEvent[];
  /** Pass as `before` for the next (older) page; null at the end. */
  next: string | null;
}

export const MAX_PAGE = 200;
const BATCH = 200;
const MAX_SCAN = 5000;

export function checkCursor(value: string | undefined, name: string): string | undefined {
  if (value !== undefined && !AUDIT_ENTRY_ID.test(value)) throw new InvalidRequest(`${name} is not a cursor from this API`);
  return value;
}

function matches(event: AuditEvent, f: AuditFilter): boolean {
  const is = (who: { userId?: string; username?: string } | undefined, name: string) => who !== undefined && (who.userId === name || who.username === name);
  if (f.actor !== undefined && !is(event.actor, f.actor)) return false;
  if (f.user !== undefined && !is(event.target, f.user)) return false;
  if (f.tokenId !== undefined && event.target?.tokenId !== f.tokenId && event.actor.tokenId !== f.tokenId) return false;
  if (f.type !== undefined && !matchesType(event.type, f.type)) return false;
  if (f.outcome !== undefined && event.outcome !== f.outcome) return false;
  if (f.involving !== undefined && event.actor.userId !== f.involving && event.target?.userId !== f.involving) return false;
  const time = Date.parse(event.time);
  if (f.since !== undefined && time < f.since) return false;
  if (f.until !== undefined && time > f.until) return false;
  return true;
}

function parse(event: string): AuditEvent | null {
  try {
    return JSON.parse(event) as AuditEvent;
  } catch {
    return null;
  }
}

export async function readAuditPage(store: Store, request: AuditPageRequest): Promise<AuditPage> {
  const { filter, limit } = request;
  // Entry ids start with the time they were appended (never before the event's own time).
  let before = request.before ?? (filter.until !== undefined ? `${filter.until + 1}-0` : undefined);
  const after = request.after ?? (filter.since !== undefined && filter.since > 0 ? `${filter.since - 1}-999999999999999` : undefined);
  const events: ListedEvent[] = [];
  for (let scanned = 0; scanned < MAX_SCAN; ) {
    const batch = await store.auditRead({ before, after, count: BATCH });
    for (const entry of batch) {
      scanned++;
      before = entry.id;
      const event = parse(entry.event);
      if (event && matches(event, filter)) events.push({ ...event, cursor: entry.id });
      if (events.length === limit) return { events, next: entry.id };
    }
    if (batch.length < BATCH) return { events, next: null };
  }
  return { events, next: before ?? null };
}
