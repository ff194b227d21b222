/**
 * Pushes upstream changes to Tessera users of one source without an upstream call per bearer
 * check, for every source that can look a known user up again (`RevalidatingSource`: LDAP with
 * its service account, OpenID Connect with the user's refresh token). Every `revalidateInterval`
 * it looks each of the source's users up and:
 *
 * - disables the user when the entry is gone, disabled, or out of `requireGroup`. Disabling makes
 *   every token of theirs inactive at once (the store checks the owner on each bearer check) and
 *   ends their login sessions;
 * - re-enables a user it disabled itself once the entry is back;
 * - refreshes display name, e-mail, groups and role (a user removed from an admin group stops
 *   being admin within one interval, not at their next sign-in).
 *
 * A round in which the directory cannot be reached changes nobody: it stops at the first failure
 * and waits for the next one. Rounds start at a random point of the first interval, so gateways
 * started together do not query the directory in step.
 *
 * "Disabled by the revalidator" is remembered in the store (one marker per user, shared by every
 * gateway), so a user an admin disabled in Tessera is never re-enabled by a directory check.
 */
import type { Clock } from '../clock.js';
import { TemporarilyUnavailable } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { Identity, RevalidatingSource } from './source.js';
import type { UserService } from './users.js';
import type { Logger } from '../observability/logger.js';

/** What the revalidator needs of a source (its interval is given separately). */
export type SourceLookup = Pick<RevalidatingSource, 'id' | 'check'> & { lookup(username: string): Promise<Identity | null | 'unknown'> };

export interface RevalidationRound {
  checked: number;
  disabled: string[];
  enabled: string[];
  refreshed: string[];
  /** Set when the round stopped early (directory unreachable); nobody after that point was touched. */
  skipped?: string;
}

/** The part of the store the revalidator uses (users go through `UserService`). */
export type RevalidatorStore = Pick<Store, 'setMarker' | 'hasMarker' | 'clearMarker'>;

// The marker is kept far longer than anyone stays disabled unnoticed; when it lapses the user
// simply stays disabled (fail closed). Its key keeps the name it had when only LDAP re-validated,
// and when markers were counters, so markers already set still count.
const MARK_TTL_MS = 400 * 86_400_000;
const markKey = (sourceId: string, userId: string) => `ldap-revalidator:disabled:${sourceId}:${userId}`;

function sameIdentity(user: UserRecord, identity: Identity): boolean {
  return (
    user.displayName === identity.displayName &&
    user.email === identity.email &&
    (identity.role === undefined || identity.role === user.role) &&
    user.groups.length === identity.groups.length &&
    user.groups.every((g, i) => g === identity.groups[i])
  );
}

export class SourceRevalidator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RevalidationRound> | undefined;

  constructor(
    private readonly source: SourceLookup,
    private readonly users: UserService,
    private readonly store: RevalidatorStore,
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Schedules rounds every `intervalMs` (no-op when 0 or already started). */
  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    const tick = () => {
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref();
      this.runOnce().catch((err) => this.log.warn(`revalidation failed: ${err instanceof Error ? err.message : String(err)}`));
    };
    this.timer = setTimeout(tick, Math.floor(Math.random() * this.intervalMs));
    // A background chore must not keep a CLI process or a test worker alive.
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One round now. Concurrent calls share the round in progress. */
  runOnce(): Promise<RevalidationRound> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<RevalidationRound> {
    const result: RevalidationRound = { checked: 0, disabled: [], enabled: [], refreshed: [] };
    // The directory is asked whether it is up only once a user of this source turns up.
    let reachable = false;
    try {
      for await (const user of this.users.each()) {
        if (user.source !== this.source.id) continue;
        if (!reachable) {
          await this.source.check();
          reachable = true;
        }
        try {
          await this.revalidate(user, result);
        } catch (err) {
          if (err instanceof TemporarilyUnavailable) throw err;
          // One odd record (e.g. deleted by an admin mid-round) must not stop the others.
          this.log.warn(`revalidation of ${user.username} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        result.checked++;
      }
    } catch (err) {
      if (!(err instanceof TemporarilyUnavailable)) throw err;
      result.skipped = 'directory or store unavailable';
      this.log.warn(`revalidation stopped after ${result.checked} users: ${result.skipped}; trying again next round`);
    }
    if (result.disabled.length || result.enabled.length) {
      this.log.info(`revalidation: disabled [${result.disabled.join(', ')}], re-enabled [${result.enabled.join(', ')}]`);
    }
    return result;
  }

  private async revalidate(user: UserRecord, result: RevalidationRound): Promise<void> {
    const identity = await this.source.lookup(user.username);
    // Nothing to ask with (an OpenID Provider that issued no refresh token): no news, no change.
    if (identity === 'unknown') return;
    const key = markKey(this.source.id, user.id);
    if (!identity) {
      if (!user.enabled) return;
      // Disable first, mark second: a crash in between leaves a disabled user an admin must
      // re-enable, never an enabled one.
      await this.users.update(user.username, { enabled: false }, undefined, 'revalidation');
      await this.store.setMarker(key, MARK_TTL_MS, this.clock());
      result.disabled.push(user.username);
      return;
    }
    // The directory may spell the name differently (case); only an exact match is this user.
    if (identity.username === user.username && !sameIdentity(user, identity)) {
      await this.users.upsertExternal(identity);
      result.refreshed.push(user.username);
    }
    if (!(await this.store.hasMarker(key, this.clock()))) return;
    // Marked and enabled: an admin re-enabled them meanwhile; the marker must not outlive that,
    // or a later disable by the admin would be undone here.
    if (!user.enabled) {
      await this.users.update(user.username, { enabled: true });
      result.enabled.push(user.username);
    }
    await this.store.clearMarker(key);
  }
}
