/**
 * Per-address limits on the two SAML endpoints anyone can call: each `GET /saml/<id>/login`
 * stores a pending sign-in, each `POST /saml/<id>/acs` occupies a response worker. Counted in the
 * store's windowed counters, so every gateway instance shares the count and a client cannot
 * spread its requests over them.
 *
 * A fixed window from the first request: requests refused inside it neither extend it nor
 * change when it ends, so a client that keeps retrying is served again when the window ends.
 */
import type { Clock } from '../../clock.js';
import { TooManyRequests } from '../../errors.js';
import type { Store } from '../../store/store.js';

/** The part of the store this uses: the per-address request counters. */
export type SamlRateLimitStore = Pick<Store, 'hitCounter'>;

const WINDOW_MS = 60_000;

export class SamlRateLimit {
  constructor(
    private readonly store: SamlRateLimitStore,
    private readonly clock: Clock,
    private readonly perMinute: number,
  ) {}

  /** Counts one request of `ip` at `endpoint`; throws `TooManyRequests` past the limit. */
  async hit(endpoint: 'login' | 'acs', ip: string): Promise<void> {
    const { count, ttlMs } = await this.store.hitCounter(`saml:rate:${endpoint}:${ip}`, WINDOW_MS, this.clock());
    if (count > this.perMinute) throw new TooManyRequests(ttlMs / 1000, 'too many SAML sign-ins from this address: try again in a minute');
  }
}
