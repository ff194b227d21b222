/**
 * The bootstrap `admin` account: created at first start, and created again whenever the store
 * lost it (a Redis that restarted empty, a restore gone wrong), checked every 30 s by each
 * gateway instance rather than only at start-up, so a running deployment is never left without
 * an administrator.
 *
 * "Lost" is told apart from "deleted on purpose" by a marker setting written with the account:
 * a store that lost `admin` lost the marker with it; an admin who deleted `admin` (there are
 * other admins) left the marker, and the account stays deleted.
 *
 * The password is TESSERA_ADMIN_PASSWORD when set, else a generated one printed once. It is used
 * only when the account is (re-)created: an existing `admin`'s password is never changed by it on
 * a later start. To reset a lost password: `tessera admin recover`.
 */
import { randomBytes } from 'node:crypto';
import { Conflict } from '../errors.js';
import type { Store } from '../store/store.js';
import type { UserService } from './users.js';

/** The part of the store this uses: the first admin: the account and the one-time bootstrap setting. */
export type AdminBootstrapStore = Pick<Store, 'findUserByName' | 'getSetting' | 'initSetting'>;

const ADMIN_USERNAME = 'admin';
/** Set when the bootstrap admin exists or existed in this store. */
export const BOOTSTRAP_MARKER = 'bootstrap:admin';
const CHECK_INTERVAL_MS = 30_000;

export class BootstrapAdmin {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: AdminBootstrapStore,
    private readonly users: UserService,
    private readonly options: {
      password?: string;
      log: (line: string) => void;
      /** Where a generated password is shown once: a terminal, never the shipped log stream. */
      reveal?: (line: string) => void;
      now: () => number;
    },
  ) {}

  /** Creates `admin` if this store never had one or lost it. Returns whether it did. */
  async ensure(): Promise<boolean> {
    if (await this.store.findUserByName(ADMIN_USERNAME)) {
      await this.mark();
      return false;
    }
    if ((await this.store.getSetting(BOOTSTRAP_MARKER)) !== null) return false;
    const password = this.options.password ?? randomBytes(18).toString('base64url');
    try {
      await this.users.create({ username: ADMIN_USERNAME, password, role: 'admin', displayName: 'Administrator' });
    } catch (error) {
      // Another instance re-created it in the same moment: theirs stands.
      if (error instanceof Conflict) return false;
      throw error;
    }
    await this.mark();
    if (this.options.password === undefined) {
      this.options.log(`Created user "${ADMIN_USERNAME}" with a generated password, printed once to stderr (never to the log)`);
      const reveal = this.options.reveal ?? ((line: string) => void process.stderr.write(`${line}\n`));
      reveal(`Created user "${ADMIN_USERNAME}" with generated password (shown once): ${password}`);
    } else {
      this.options.log(`Created user "${ADMIN_USERNAME}" with the password from TESSERA_ADMIN_PASSWORD.`);
    }
    return true;
  }

  /** Checks every 30 s; a failed check (store down) is retried at the next tick. */
  start(intervalMs = CHECK_INTERVAL_MS): void {
    this.timer = setInterval(() => void this.ensure().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async mark(): Promise<void> {
    await this.store.initSetting(BOOTSTRAP_MARKER, new Date(this.options.now()).toISOString());
  }
}
