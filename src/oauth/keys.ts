/**
 * Signing keys for ID tokens and JWT access tokens, and the keys that sign the provider's
 * cookies. Generated at first start and kept in the store, so every gateway instance signs with
 * the same keys and a restart does not invalidate tokens or sessions.
 *
 * Rotation (`rotate`, behind `POST /api/v1/admin/keys/rotate`) appends a new signing key and a
 * new cookie key in the `next` phase (key-set.ts): published at once by every instance, signing
 * only after `oidc.keyActivationDelay`. The append is a compare-and-set on the whole set with
 * retries, so concurrent rotations on several gateways all land. Each change is announced over
 * the store's settings channel; instances also poll, in case an announcement was missed.
 *
 * At rest each set is one setting, encrypted with the KEK when one is configured
 * (key-encryption.ts).
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import { TemporarilyUnavailable } from '../errors.js';
import { randomBase62 } from '../ids.js';
import type { Store } from '../store/store.js';
import { isWrapped, KeyEncryptionError, type KeyEncryption } from './key-encryption.js';
import { keyPhases, keptKeys, nextPhaseChange, publishedOrder, type KeyEntry } from './key-set.js';

/** The part of the store this uses: the shared key sets and their change notifications. */
export type KeyStore = Pick<Store, 'compareAndSetSetting' | 'getSetting' | 'watchSettings'>;

const SIGNING_KEYS_SETTING = 'oidc:signing-keys';
const COOKIE_KEYS_SETTING = 'oidc:cookie-keys';
/** Every setting that holds key material, for start-up wrapping and for backups. */
export const KEY_SETTINGS = [SIGNING_KEYS_SETTING, COOKIE_KEYS_SETTING] as const;

export interface SigningKey extends KeyEntry {
  jwk: JWK;
}
export interface CookieKey extends KeyEntry {
  secret: string;
}
type AnyKey = SigningKey | CookieKey;

/** What a provider is built from, and how to tell when it must be rebuilt. */
export interface ProviderKeySnapshot {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** Changes whenever the published keys or the signing key change. */
  version: string;
  /** When the phases change next without any write (an activation or retirement). */
  nextChangeAt?: number;
}

export interface ProviderKeysOptions {
  clock: Clock;
  /** How long a superseded key stays published (config `oidc.keyRetirement`). */
  retirementMs: number;
  /** How long a new key is published before it signs (config `oidc.keyActivationDelay`). */
  activationDelayMs: number;
  /** `oidc.cookieKeys` from config: when set, cookie keys are not stored or rotated. */
  configuredCookieKeys?: string[];
  encryption: KeyEncryption | null;
}

async function newSigningKey(now: number, activateAt: number): Promise<SigningKey> {
  // Async keygen runs on libuv's thread pool, off the event loop.
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = `${new Date(now).toISOString().slice(0, 10)}-${randomBase62(8)}`;
  return { kid, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }, createdAt: now, activateAt };
}

const newCookieKey = (now: number, activateAt: number): CookieKey => ({ kid: randomBase62(8), secret: randomBytes(32).toString('base64url'), createdAt: now, activateAt });

/**
 * Reads a set, including the shapes older versions wrote: signing keys without phases (retiring
 * ones carry retireAt), cookie keys as a list of strings, newest first. `legacy`: such a list,
 * whose keys have no times yet; `prepare` gives them times once, at start-up.
 */
function parseSet(setting: string, json: string): { keys: AnyKey[]; legacy: boolean } {
  const value = JSON.parse(json) as { keys: unknown[] } | string[];
  if (Array.isArray(value)) {
    return { keys: value.map((secret, i) => ({ kid: `legacy-${i}`, secret, createdAt: -i, activateAt: -i })), legacy: true };
  }
  const keys = (value.keys as (AnyKey & { jwk?: JWK })[]).map((k) => ({ ...k, kid: k.kid ?? k.jwk?.kid ?? setting, activateAt: k.activateAt ?? k.createdAt }));
  return { keys, legacy: false };
}

export class ProviderKeys {
  /** The last value read or written per setting, to put back if the store loses it. */
  private readonly lastSeen = new Map<string, string>();

  constructor(
    private readonly store: KeyStore,
    private readonly options: ProviderKeysOptions,
  ) {}

  get encrypted(): boolean {
    return this.options.encryption !== null;
  }

  /**
   * Start-up: creates missing key sets, wraps sets stored in clear once a KEK is set, re-wraps
   * sets wrapped with the previous KEK. Returns what it changed, for the start-up log.
   */
  async prepare(): Promise<string[]> {
    const changes: string[] = [];
    for (const setting of this.storedSettings()) {
      let change = '';
      const wrote = await this.update(setting, async (keys, raw, stale, legacy) => {
        const now = this.options.clock();
        if (!keys.length) {
          change = `created ${setting}`;
          return [await this.newKey(setting, now)];
        }
        if (legacy) {
          // The first listed key signs from now on; the others stay accepted for keyRetirement.
          change = `gave ${setting} activation times`;
          return keys.map((k) => ({ ...k, createdAt: now - 1 + k.createdAt, activateAt: now - 1 + k.activateAt }));
        }
        const inClear = !isWrapped(raw!);
        if (this.encrypted && (inClear || stale)) {
          change = `${inClear ? 'encrypted' : 're-encrypted'} ${setting} with KEK ${this.options.encryption!.id}`;
          return keys;
        }
        return null;
      });
      // Another instance starting at the same moment may have done it first: then say nothing.
      if (wrote) changes.push(change);
    }
    return changes;
  }

  /** Appends a new signing key (and cookie key) in the `next` phase. */
  async rotate(): Promise<{ kid: string; activatesAt: number; retiring: string[] }> {
    const now = this.options.clock();
    const activatesAt = now + this.options.activationDelayMs;
    const fresh = await newSigningKey(now, activatesAt);
    let retiring: string[] = [];
    await this.update(SIGNING_KEYS_SETTING, async (keys) => {
      const kept = keys.length ? keptKeys(keys, now, this.options.retirementMs) : [];
      retiring = kept.length ? [keyPhases(kept, now, this.options.retirementMs).current.kid] : [];
      return [...kept, fresh];
    });
    if (this.storedSettings().includes(COOKIE_KEYS_SETTING)) {
      const cookie = newCookieKey(now, activatesAt);
      await this.update(COOKIE_KEYS_SETTING, async (keys) => [...keptKeys(keys, now, this.options.retirementMs), cookie]);
    }
    return { kid: fresh.kid, activatesAt, retiring };
  }

  /** The keys in force now. */
  async snapshot(): Promise<ProviderKeySnapshot> {
    const now = this.options.clock();
    const { retirementMs } = this.options;
    const signing = (await this.read(SIGNING_KEYS_SETTING)) as SigningKey[];
    if (!signing.length) throw new TemporarilyUnavailable('no signing keys in the store');
    const signingOrder = publishedOrder(keyPhases(signing, now, retirementMs));
    let cookieKeys = this.options.configuredCookieKeys ?? [];
    let cookieKids: string[] = [`configured:${cookieKeys.length}`];
    const changes = [nextPhaseChange(signing, now, retirementMs)];
    if (!this.options.configuredCookieKeys?.length) {
      const cookies = (await this.read(COOKIE_KEYS_SETTING)) as CookieKey[];
      if (!cookies.length) throw new TemporarilyUnavailable('no cookie keys in the store');
      const cookieOrder = publishedOrder(keyPhases(cookies, now, retirementMs));
      cookieKeys = cookieOrder.map((k) => k.secret);
      cookieKids = cookieOrder.map((k) => k.kid);
      changes.push(nextPhaseChange(cookies, now, retirementMs));
    }
    const future = changes.filter((t): t is number => t !== undefined);
    return {
      jwks: { keys: signingOrder.map((k) => k.jwk) },
      cookieKeys,
      version: JSON.stringify([signingOrder.map((k) => k.kid), cookieKids]),
      nextChangeAt: future.length ? Math.min(...future) : undefined,
    };
  }

  private storedSettings(): string[] {
    return this.options.configuredCookieKeys?.length ? [SIGNING_KEYS_SETTING] : [...KEY_SETTINGS];
  }

  private newKey(setting: string, now: number): Promise<AnyKey> | AnyKey {
    return setting === SIGNING_KEYS_SETTING ? newSigningKey(now, now) : newCookieKey(now, now);
  }

  private async read(setting: string): Promise<AnyKey[]> {
    const raw = await this.stored(setting);
    return raw === null ? [] : (await this.decode(setting, raw)).keys;
  }

  /**
   * The stored value. If the store lost it (a Redis that restarted empty) while this instance
   * still knows it, it is written back as it was (still encrypted): tokens signed with those
   * keys keep verifying, and no instance starts signing with keys the others do not publish.
   */
  private async stored(setting: string): Promise<string | null> {
    const raw = await this.store.getSetting(setting);
    const known = this.lastSeen.get(setting);
    if (raw !== null || known === undefined) {
      if (raw !== null) this.lastSeen.set(setting, raw);
      return raw;
    }
    await this.store.compareAndSetSetting(setting, null, known);
    return this.store.getSetting(setting);
  }

  private async decode(setting: string, raw: string): Promise<{ keys: AnyKey[]; stale: boolean; legacy: boolean }> {
    if (!isWrapped(raw)) return { ...parseSet(setting, raw), stale: false };
    const { encryption } = this.options;
    if (!encryption) {
      throw new KeyEncryptionError(`${setting} in the store is encrypted, but TESSERA_KEY_ENCRYPTION_KEY is not set: start with the KEK it was written with`);
    }
    const { plaintext, stale } = await encryption.unwrap(raw);
    return { ...parseSet(setting, plaintext), stale };
  }

  private async encode(keys: AnyKey[]): Promise<string> {
    const json = JSON.stringify({ keys });
    return this.options.encryption ? this.options.encryption.wrap(json) : json;
  }

  /**
   * Read, change, compare-and-set, retry on a lost race: no concurrent update is lost. `change`
   * returns the new set, or null to leave the stored value as it is. Returns whether it wrote.
   */
  private async update(
    setting: string,
    change: (keys: AnyKey[], raw: string | null, stale: boolean, legacy: boolean) => Promise<AnyKey[] | null>,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const raw = await this.stored(setting);
      const { keys, stale, legacy } = raw === null ? { keys: [], stale: false, legacy: false } : await this.decode(setting, raw);
      const next = await change(keys, raw, stale, legacy);
      if (next === null) return false;
      const value = await this.encode(next);
      if (await this.store.compareAndSetSetting(setting, raw, value)) {
        this.lastSeen.set(setting, value);
        return true;
      }
      // Lost to another writer: back off a little (randomised, so racers spread out) and retry.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 10)));
    }
    throw new TemporarilyUnavailable(`${setting} kept changing under this update; try again`);
  }
}
