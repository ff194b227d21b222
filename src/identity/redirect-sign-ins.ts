/**
 * The short-lived state of redirect sign-ins (SAML, upstream OpenID Connect), kept in the store
 * so any gateway instance can answer any step (memory and Redis alike, through the generic
 * provider records and counters). The record names date from when SAML was the only kind; they
 * stay so sign-ins in flight during an upgrade still finish.
 *
 *   SamlRequest  the request sent, under the opaque key that travels with the browser (SAML's
 *                RelayState, OpenID Connect's `state`): what the answer must match (the
 *                AuthnRequest ID; the nonce and PKCE verifier), where to go afterwards, and the
 *                browser it was started in. 10 minutes, taken by the first answer that names
 *                it, accepted or not: one sign-in start buys one check of one answer.
 *   SamlLogin    the one-time hand-off from the callback to the GET that finishes the sign-in,
 *                under a random code. 2 minutes, used once.
 *   replay cache each accepted SAML assertion ID until the assertion could no longer be accepted.
 *
 * "Once" is a windowed counter (atomic on Redis): the first use counts 1, any other use, even
 * concurrent, more.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';

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
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private async once(kind: string, id: string, windowMs: number): Promise<boolean> {
    const { count } = await this.store.hitCounter(`saml:${kind}:${id}`, Math.max(1, Math.ceil(windowMs)), this.clock());
    return count === 1;
  }

  /** An opaque RelayState (43 characters: SAML bindings §3.4.3 allows 80 bytes). */
  newRelayState(): string {
    return randomId();
  }

  /** Stores the request sent with `relayState`. */
  async begin(relayState: string, pending: PendingSignIn): Promise<void> {
    await this.store.providerUpsert('SamlRequest', relayState, { ...pending }, REQUEST_TTL_MS / 1000);
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
    const pending = (await this.store.providerFind('SamlRequest', relayState)) as PendingSignIn | null;
    if (!pending) return null;
    return (await this.once('request', relayState, REQUEST_TTL_MS)) ? pending : 'answered';
  }

  /** True the first time an assertion ID is seen; remembered until `until` (ms). */
  firstUseOfAssertion(source: string, assertionId: string, until: number): Promise<boolean> {
    return this.once(`assertion:${source}`, assertionId, until - this.clock());
  }

  async handOff(handoff: SignInHandoff): Promise<string> {
    const code = randomId();
    await this.store.providerUpsert('SamlLogin', code, { ...handoff }, HANDOFF_TTL_MS / 1000);
    return code;
  }

  /** The hand-off a code names, the first time only. */
  async takeHandoff(code: string): Promise<SignInHandoff | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return null;
    const handoff = (await this.store.providerFind('SamlLogin', code)) as SignInHandoff | null;
    if (!handoff || !(await this.once('login', code, HANDOFF_TTL_MS))) return null;
    await this.store.providerDestroy('SamlLogin', code);
    return handoff;
  }
}
