/**
 * The gateway-wide "not before" instant of the emergency switch: every credential issued before
 * it is void, whoever it belongs to. It is one shared setting; each process keeps a copy and
 * re-reads it at most every `refreshMs` in the background, so hot paths compare against memory
 * and never pay a store round trip for it. The instance that pulls the switch knows at once;
 * other instances within `refreshMs` — and sooner per user, since the switch also stamps each
 * user record (`credentialsNotBefore`), which every hot path already reads.
 */
import type { UserRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

/** The part of the store this uses: the emergency switch's shared setting. */
export type NotBeforeStore = Pick<Store, 'getSetting' | 'setSetting'>;

const SETTING = 'credentialsNotBefore';

export class CredentialsNotBefore {
  private value = 0;
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly store: NotBeforeStore,
    private readonly refreshMs = 5_000,
  ) {}

  /** Reads the shared value now (start-up, tests). */
  async load(): Promise<void> {
    const raw = await this.store.getSetting(SETTING);
    this.value = Math.max(this.value, Number(raw) || 0);
    this.readAt = Date.now();
  }

  /** The last known global instant; starts a background re-read when the copy is stale. */
  global(): number {
    if (Date.now() - this.readAt > this.refreshMs && !this.reading) {
      // A failed read keeps the last known value: the per-user stamps still hold.
      this.reading = this.load().catch(() => undefined).finally(() => (this.reading = undefined));
    }
    return this.value;
  }

  /** Pulls the switch: from `now` on, everything issued earlier is void everywhere. */
  async set(now: number): Promise<void> {
    await this.store.setSetting(SETTING, String(now));
    this.value = Math.max(this.value, now);
  }

  /** The instant before which this user's credentials are void (ms). */
  forUser(user: UserRecord): number {
    return Math.max(this.global(), user.credentialsNotBefore ?? 0);
  }

  /** Whether a credential of `user` issued at `issuedAt` (ms) is still allowed to work. */
  allows(user: UserRecord, issuedAt: number): boolean {
    return issuedAt >= this.forUser(user);
  }

  /** For credentials without a user (client credentials): only the global instant applies. */
  allowsUnowned(issuedAt: number): boolean {
    return issuedAt >= this.global();
  }
}
