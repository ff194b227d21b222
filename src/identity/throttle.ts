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

  private keys(username: string, ip: string) {
    return [
      { key: `login:pair:${ip}:${username}`, max: this.limits.maxFailuresPerAccountAndIp },
      { key: `login:acct:${username}`, max: this.limits.maxFailuresPerAccount },
      { key: `login:ip:${ip}`, max: this.limits.maxFailuresPerIp },
    ];
  }

  /** Throws TooManyRequests (with Retry-After) while any counter is at its limit. */
  async check(username: string, ip: string): Promise<void> {
    const now = this.clock();
    const counters = await Promise.all(this.keys(username, ip).map(async (k) => ({ ...k, ...(await this.store.getCounter(k.key, now)) })));
    const blocked = counters.filter((c) => c.count >= c.max);
    if (blocked.length) throw new TooManyRequests(Math.max(...blocked.map((c) => c.ttlMs)) / 1000);
  }

  async failure(username: string, ip: string): Promise<void> {
    const now = this.clock();
    await Promise.all(this.keys(username, ip).map((k) => this.store.hitCounter(k.key, this.limits.window, now)));
  }

  /** A correct password clears the pair counter only: it proves nothing about other IPs. */
  async success(username: string, ip: string): Promise<void> {
    await this.store.deleteCounter(this.keys(username, ip)[0]!.key);
  }
}
