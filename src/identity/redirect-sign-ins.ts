/**
 * The short-lived state of redirect sign-ins (SAML, upstream OpenID Connect), kept in the store
 * so any gateway instance can answer any step (memory and Redis alike):
 *
 *   sign-in-request   transient: the request sent, under the opaque key that travels with the
 *                     browser (SAML's RelayState, OpenID Connect's `state`): what the answer must
 *                     match (the AuthnRequest ID; the nonce and PKCE verifier), where to go
 *                     afterwards, and the browser it was started in. 10 minutes, claimed by the
 *                     first answer that names it, accepted or not: one sign-in start buys one
 *                     check of one answer. Kept until it lapses, so a second answer is told
 *                     "already answered" rather than "unknown".
 *   sign-in-handoff   transient: the one-time hand-off from the callback to the GET that finishes
 *                     the sign-in, under a random code. 2 minutes, taken (read and removed) once.
 *   replay cache      a claim per accepted SAML assertion ID, until the assertion could no longer
 *                     be accepted.
 *
 * Claim keys keep the names they had as counters (`saml:...`), so replay claims made before an
 * upgrade still hold (see `RedisShortLived`).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';

/** The part of the store redirect sign-ins use. */
export type SignInStore = Pick<Store, 'claimOnce' | 'putTransient' | 'peekTransient' | 'takeTransient'>;

const REQUEST = 'sign-in-request';
const HANDOFF = 'sign-in-handoff';
const REQUEST_TTL_MS = 10 * 60_000;
const HANDOFF_TTL_MS = 2 * 60_000;

export interface PendingSignIn {
  source: string;
  /** What the answer must match, as the source made it (SAML: the AuthnRequest ID). */
  requestId: string;
  /** The browser's binding nonce (cookie), so only the browser that started it can finish it. */
  browser: string;
  /** Web sign-in: the same-origin path to land on. */
  returnTo?: string;
  /** OIDC login interaction: its uid. */
  interaction?: string;
}

export interface SignInHandoff {
  source: string;
  userId: string;
  /** Null for an IdP-initiated sign-in, which no browser started. */
  browser: string | null;
  returnTo?: string;
  interaction?: string;
}

const randomId = () => randomBytes(32).toString('base64url');

export class RedirectSignIns {
  constructor(
    private readonly store: SignInStore,
    private readonly clock: Clock,
  ) {}

  private once(kind: string, id: string, ttlMs: number): Promise<boolean> {
    return this.store.claimOnce(`saml:${kind}:${id}`, Math.max(1, Math.ceil(ttlMs)), this.clock());
  }

  /** An opaque RelayState (43 characters: SAML bindings §3.4.3 allows 80 bytes). */
  newRelayState(): string {
    return randomId();
  }

  /** Stores the request sent with `relayState`. */
  async begin(relayState: string, pending: PendingSignIn): Promise<void> {
    await this.store.putTransient(REQUEST, relayState, { ...pending }, REQUEST_TTL_MS, this.clock());
  }

  /** Whether a RelayState has the shape of ours (an IdP's "default RelayState" does not). */
  static isOurs(relayState: string): boolean {
    return /^[A-Za-z0-9_-]{43}$/.test(relayState);
  }

  /**
   * The pending request a RelayState names, for the first response that names it only; later
   * ones get `answered`. Kept until it expires, so it cannot be taken twice.
   */
  async take(relayState: string): Promise<PendingSignIn | 'answered' | null> {
    if (!RedirectSignIns.isOurs(relayState)) return null;
    const pending = (await this.store.peekTransient(REQUEST, relayState, this.clock())) as PendingSignIn | null;
    if (!pending) return null;
    return (await this.once('request', relayState, REQUEST_TTL_MS)) ? pending : 'answered';
  }

  /** True the first time an assertion ID is seen; remembered until `until` (ms). */
  firstUseOfAssertion(source: string, assertionId: string, until: number): Promise<boolean> {
    return this.once(`assertion:${source}`, assertionId, until - this.clock());
  }

  async handOff(handoff: SignInHandoff): Promise<string> {
    const code = randomId();
    await this.store.putTransient(HANDOFF, code, { ...handoff }, HANDOFF_TTL_MS, this.clock());
    return code;
  }

  /** The hand-off a code names, the first time only. */
  async takeHandoff(code: string): Promise<SignInHandoff | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return null;
    return (await this.store.takeTransient(HANDOFF, code, this.clock())) as SignInHandoff | null;
  }
}
