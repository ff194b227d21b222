/**
 * Failed-login throttling, counted in the store so every gateway instance sees the same numbers.
 * Three windowed counters:
 *   - account + client IP: the tight limit; a victim on another IP is unaffected by it;
 *   - account, any IP: a looser limit against distributed guessing;
 *   - client IP, any account: against password spraying.
 * Every lock ends when its window does, so an attacker can slow a victim down but never lock
 * them out for longer than one window after the attack stops.
 */
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { TooManyRequests } from '../errors.js';
import type { Store } from '../store/store.js';

export class LoginThrottle {
  constructor(
    private readonly store: Store,
    private readonly limits: TesseraConfig['auth']['lockout'],
    private readonly clock: Clock,
  ) {}

  private keys(name: string, ip: string) {
    // Directories match names case- and space-insensitively: so must the counters, or `Alice`,
    // `ALICE` and ` alice` would each get a fresh allowance.
    const username = name.normalize('NFKC').trim().toLowerCase();
    return [
      { key: `login:pair:${ip}:${username}`, max: this.limits.maxFailuresPerAccountAndIp },
      { key: `login:acct:${username}`, max: this.limits.maxFailuresPerAccount },
      { key: `login:ip:${ip}`, max: this.limits.maxFailuresPerIp },
    ];
  }

  /**
   * Counts the attempt before the password is checked, then refuses (TooManyRequests with
   * Retry-After) if any counter went past its limit. Counting first is what makes the limit hold
   * for guesses sent in parallel: each one is counted atomically before any is verified.
   */
  async attempt(username: string, ip: string): Promise<void> {
    const now = this.clock();
    const counters = await Promise.all(
      this.keys(username, ip).map(async (k) => ({ ...k, ...(await this.store.hitCounter(k.key, this.limits.window, now)) })),
    );
    const blocked = counters.filter((c) => c.count > c.max);
    if (blocked.length) throw new TooManyRequests(Math.max(...blocked.map((c) => c.ttlMs)) / 1000);
  }

  /**
   * A correct password: the pair counter is cleared, and the attempt is taken back from the
   * account and IP counters (it proves nothing about other IPs, but was no guess either).
   */
  async success(username: string, ip: string): Promise<void> {
    const [pair, ...others] = this.keys(username, ip);
    const now = this.clock();
    await Promise.all([this.store.deleteCounter(pair!.key), ...others.map((k) => this.store.hitCounter(k.key, this.limits.window, now, -1))]);
  }
}
