/**
 * Guards of the device flow (RFC 8628) that oidc-provider does not have:
 *
 * - User-code guessing (§5.1). A user code has about 34 bits; unthrottled, a script tries
 *   ~120 a second. Wrong codes entered on the verification page are counted per browser (the
 *   provider's session cookie), per IP address and for the whole gateway; past a limit the page
 *   refuses to look codes up at all until the window ends. The gateway-wide limit bounds
 *   guessing spread over many addresses, at the price of pausing the page for everyone.
 * - Polling faster than the interval (§3.5): while the user has not decided yet, a poll within
 *   `interval` seconds of the previous one answers `slow_down` instead of looking again.
 *
 * Counters and poll claims live in the store, so limits hold across gateway instances.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { TesseraError, TooManyRequests } from '../errors.js';
import type { Store } from '../store/store.js';

/** The part of the store the device flow's guards use: miss counters, the poll claim, the code. */
export type DeviceGuardStore = Pick<Store, 'getCounter' | 'hitCounter' | 'claimOnce' | 'providerFind'>;

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** 400 `slow_down` (RFC 8628 §3.5): still pending, and the client must poll less often. */
class SlowDown extends TesseraError {
  constructor() {
    super(400, 'slow_down', 'polling too fast: wait 5 seconds more between requests');
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

export class DeviceGuard {
  constructor(
    private readonly store: DeviceGuardStore,
    private readonly clock: Clock,
    private readonly limits: TesseraConfig['oidc']['deviceCodeGuesses'],
    /** The polling interval announced to devices (oidc-provider's: 5 s). */
    private readonly pollIntervalMs = 5_000,
  ) {}

  private keys(ip: string, browser: string | undefined): [string, number][] {
    const { perBrowser, perIp, perGateway } = this.limits;
    return [
      ...(browser ? [[`device-miss:browser:${digest(browser)}`, perBrowser] as [string, number]] : []),
      [`device-miss:ip:${ip}`, perIp],
      ['device-miss:gateway', perGateway],
    ];
  }

  /** Throws TooManyRequests when this browser, this address or the gateway used up its misses. */
  async checkAttempt(ip: string, browser: string | undefined): Promise<void> {
    const now = this.clock();
    for (const [key, limit] of this.keys(ip, browser)) {
      const counter = await this.store.getCounter(key, now);
      if (counter.count >= limit) throw new TooManyRequests(counter.ttlMs / 1000, 'too many wrong codes: wait before trying again');
    }
  }

  /** A user code that matched nothing. */
  async miss(ip: string, browser: string | undefined): Promise<void> {
    const now = this.clock();
    await Promise.all(this.keys(ip, browser).map(([key]) => this.store.hitCounter(key, this.limits.window, now)));
  }

  /** Before a device-code token request: `slow_down` when polled again too soon while pending. */
  async poll(deviceCode: string): Promise<void> {
    if (deviceCode.length > 512) return;
    // The first poll of each interval looks; any other within it is "too soon".
    if (await this.store.claimOnce(`device-poll:${digest(deviceCode)}`, this.pollIntervalMs, this.clock())) return;
    const code = await this.store.providerFind('DeviceCode', deviceCode);
    const pending = code && !code.accountId && !code.error && typeof code.exp === 'number' && code.exp * 1000 > Date.now();
    if (pending) throw new SlowDown();
  }
}
