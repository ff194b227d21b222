/**
 * Expiry notices: when a PAT comes within `notifications.expiryDays` of the moment it stops for
 * good (its hard expiry, or a sliding token's absolute cap: sliding can postpone everything but
 * that), its owner is told once per threshold, by e-mail and as a `token-expiring` webhook.
 *
 * Every gateway runs the check; each notice is claimed in the store first (an atomic counter that
 * only one caller sees at 1, kept until after the deadline), so several gateways send it once.
 * The e-mail itself is an outbox item (delivery.ts), retried like any delivery: claimed once,
 * never lost to an SMTP relay that was briefly down.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { Store, TokenRecord } from '../store/store.js';
import { eachToken, eachUser } from '../store/walks.js';
import type { NotificationsConfig, SignalsConfig } from './config.js';
import type { SignalPublisher } from './publisher.js';

/** The part of the store this uses: every user's tokens, one claim per notice, the mail queue. */
export type ExpiryNoticeStore = Pick<Store, 'claimOnce' | 'listTokenPage' | 'listUserPage' | 'outboxAdd'>;

const DAY = 24 * 60 * 60 * 1000;
export const MAIL_QUEUE = 'mail';

export interface QueuedMail {
  to: string;
  subject: string;
  text: string;
}

/** When the token stops for good: the sliding cap, else its expiry; none when revoked. */
export function finalDeadline(token: TokenRecord): number | undefined {
  if (token.revokedAt !== undefined) return undefined;
  return token.slidingWindow !== undefined && token.maxLifetimeAt !== undefined ? token.maxLifetimeAt : token.expiresAt;
}

/** The tokens the banner on /manage_tokens warns about: active, within the largest threshold. */
export function expiringSoon(tokens: TokenRecord[], days: number[], now: number): TokenRecord[] {
  const horizon = Math.max(0, ...days) * DAY;
  return tokens.filter((t) => {
    const deadline = finalDeadline(t);
    return deadline !== undefined && deadline > now && deadline - now <= horizon;
  });
}

export interface ExpiryNoticeDeps {
  store: ExpiryNoticeStore;
  clock: Clock;
  issuer: string;
  notifications: NotificationsConfig;
  signals: SignalsConfig;
  publisher: SignalPublisher;
  kick: () => void;
  logger: Logger;
}

export class ExpiryNotices {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly deps: ExpiryNoticeDeps) {}

  start(): void {
    const run = () => {
      this.running = this.runOnce().catch((err: unknown) => this.deps.logger.warn({ err }, 'expiry notice check failed'));
    };
    this.timer = setInterval(run, this.deps.notifications.checkInterval);
    this.timer.unref();
    run();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every user's tokens. Returns the notices this gateway claimed (and queued). */
  async runOnce(): Promise<number> {
    const { store, clock, notifications } = this.deps;
    const now = clock();
    let sent = 0;
    // A store page at a time, active tokens only: the pass never holds the store for a time
    // that grows with all users, nor reads the records kept for audit.
    for await (const user of eachUser(store)) {
      for await (const token of eachToken(store, user.id, now)) {
        const deadline = finalDeadline(token);
        if (deadline === undefined || deadline <= now) continue;
        const left = deadline - now;
        const claimed: number[] = [];
        for (const days of notifications.expiryDays.filter((d) => left <= d * DAY)) {
          // The claim lives until a day after the deadline: no second notice for this threshold.
          if (await store.claimOnce(`notice:${token.id}:${days}`, left + DAY, now)) claimed.push(days);
        }
        if (!claimed.length) continue;
        // Thresholds crossed together (a check missed, a short-lived token) make one notice, the most urgent.
        await this.notify(user.email, user.id, user.username, token, Math.min(...claimed), deadline, now);
        sent++;
      }
    }
    if (sent) this.deps.kick();
    return sent;
  }

  private async notify(email: string, userId: string, username: string, token: TokenRecord, threshold: number, deadline: number, now: number): Promise<void> {
    const id = `notice.${token.id}.${threshold}`;
    const when = new Date(deadline).toISOString();
    const daysLeft = Math.max(1, Math.ceil((deadline - now) / DAY));
    if (this.deps.notifications.smtp && email) {
      const mail: QueuedMail = {
        to: email,
        subject: `Your Tessera token expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}: ${token.name}`,
        text: `Hello ${username},\n\nyour personal access token "${token.name}" (id ${token.id}) stops working at ${when}.\nCreate a new one before then and replace it wherever it is used (CI variables, scripts).\n\nYour tokens: ${this.deps.issuer}/manage_tokens\n`,
      };
      await this.deps.store.outboxAdd(MAIL_QUEUE, id, JSON.stringify(mail), now, this.deps.signals.maxQueued);
    }
    await this.deps.publisher.publish([
      {
        id,
        name: 'token-expiring',
        txn: id,
        time: now,
        subject: { userId, username, tokenId: token.id },
        fields: { token_name: token.name, expires_at: when, days_left: daysLeft, threshold_days: threshold },
      },
    ]);
  }
}
