/**
 * Per-address limits on the endpoints of redirect sign-in that anyone can call, for every source
 * kind: each start (`GET /saml/<id>/login`, `GET /sso/<id>/login`) stores a pending sign-in, each
 * answer (`POST /saml/<id>/acs`, `/sso/<id>/callback`) costs a SAML response worker or a request
 * to the upstream provider. Counted per source (kind and id), per step and per address, in the
 * store's windowed counters, so every gateway instance shares the count and a client cannot
 * spread its requests over them.
 *
 * A fixed window from the first request: requests refused inside it neither extend it nor
 * change when it ends, so a client that keeps retrying is served again when the window ends.
 */
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { TooManyRequests } from '../errors.js';
import type { Store } from '../store/store.js';
import { sourceKindOf, type SourceKind } from './source-kinds.js';

const WINDOW_MS = 60_000;
const KIND_LABELS: Record<SourceKind, string> = { ldap: 'LDAP', saml: 'SAML', openidConnect: 'OpenID Connect' };

export class RedirectRateLimit {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly config: TesseraConfig,
  ) {}

  /** `auth.redirectSignIns.perIpPerMinute`; for SAML sources `samlLimits.perIpPerMinute` when set. */
  private limitFor(kind: SourceKind | undefined): number {
    if (kind === 'saml' && this.config.samlLimits.perIpPerMinute !== undefined) return this.config.samlLimits.perIpPerMinute;
    return this.config.auth.redirectSignIns.perIpPerMinute;
  }

  /** Counts one request of `ip` at a source's `step`; throws `TooManyRequests` past the limit. */
  async hit(sourceId: string, step: 'start' | 'answer', ip: string): Promise<void> {
    const kind = sourceKindOf(this.config, sourceId);
    const { count, ttlMs } = await this.store.hitCounter(`redirect:rate:${kind ?? 'unknown'}:${sourceId}:${step}:${ip}`, WINDOW_MS, this.clock());
    if (count > this.limitFor(kind)) {
      throw new TooManyRequests(ttlMs / 1000, `too many ${kind ? `${KIND_LABELS[kind]} ` : ''}sign-ins from this address: try again in a minute`);
    }
  }
}
