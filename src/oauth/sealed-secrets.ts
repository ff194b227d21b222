/**
 * Secrets Tessera keeps in the store to use later on someone's behalf (an upstream OpenID
 * Provider's refresh token, the Authorization header an SSF receiver gave for push delivery):
 * sealed with the key-encryption key, like the signing keys, so whoever reads Redis without the
 * KEK cannot replay them. Without a KEK they are stored in clear, as the signing keys are.
 *
 * A sealed value is `tessera-sealed:` + the KEK's compact JWE (key-encryption.ts); anything else
 * is a value stored in clear (by an older Tessera, or without a KEK), which still reads, and which
 * `open` asks to be sealed again once a KEK is set, as it asks for a value sealed with the
 * previous KEK. The prefix keeps the two apart whatever a clear secret looks like (a refresh
 * token may itself be a JWE).
 *
 * Which KEKs the sealed values may still need is recorded in the store (the `sealed-secrets`
 * setting: per use, per KEK fingerprint, until when a value sealed with it may be read), written
 * before the sealed value is; values few enough to read at start (the SSF streams' headers) are
 * not recorded, their own `kid`s are read instead (`sealedWith`). `checkAtStart` refuses to start a gateway that lacks one of them,
 * naming the setting to give it, instead of failing at the first read (a user's re-validation,
 * an SSF push) long after the start. Values are sealed again with the current KEK when read,
 * but nothing lists them all, so a KEK stays needed until the last value sealed with it expires.
 */
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { KEK_ENV, KeyEncryptionError, PREVIOUS_KEK_ENV, wrappedKeyId, type KeyEncryption } from './key-encryption.js';

const SEALED = 'tessera-sealed:';
/** The store setting holding `Needs`. */
export const SEALED_SECRETS_SETTING = 'sealed-secrets';
const DAY_MS = 86_400_000;

/** Per use (e.g. `upstream-refresh-token`), per KEK fingerprint: until when (ms), or null: no end. */
type Needs = Record<string, Record<string, number | null>>;

/** What a sealed value is for and how long it may be read: `until` its expiry, or null while it has none. */
export interface SealUse {
  use: string;
  until: number | null;
}

export type SealRecordStore = Pick<Store, 'getSetting' | 'compareAndSetSetting'>;

export interface OpenedSecret {
  secret: string;
  /** Stored in clear or with the previous KEK while a current KEK is set: write it again sealed. */
  reseal: boolean;
}

/** The fingerprint of the KEK a stored value is sealed with; null for a value in clear. */
export function sealedWith(stored: string): string | null {
  return stored.startsWith(SEALED) ? wrappedKeyId(stored.slice(SEALED.length)) : null;
}

function parseNeeds(raw: string | null): Needs {
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Needs) : {};
  } catch {
    return {};
  }
}

export class SealedSecrets {
  /** What this process has recorded already, so a sign-in does not write the setting each time. */
  private readonly noted = new Map<string, number | null>();

  /** `record`: where to note which KEKs sealed values need (omitted: nothing is noted, tests). */
  constructor(
    private readonly kek: KeyEncryption | null,
    private readonly record?: { store: SealRecordStore; clock: Clock },
  ) {}

  async seal(secret: string, use?: SealUse): Promise<string> {
    if (!this.kek) return secret;
    // Noted before the value is written: a value in the store is never sealed with an unnoted KEK.
    if (use) await this.note(use);
    return SEALED + (await this.kek.wrap(secret));
  }

  /** Throws `KeyEncryptionError` for a sealed value without the KEK it was sealed with. */
  async open(stored: string): Promise<OpenedSecret> {
    if (!stored.startsWith(SEALED)) return { secret: stored, reseal: this.kek !== null };
    if (!this.kek) throw new KeyEncryptionError(`a secret in the store is sealed with a KEK, but ${KEK_ENV} is not set: start with the KEK it was written with`);
    const { plaintext, stale } = await this.kek.unwrap(stored.slice(SEALED.length));
    return { secret: plaintext, reseal: stale };
  }

  /**
   * Refuses (KeyEncryptionError, naming the setting to give and the KEK fingerprint, never a key
   * or a secret) when a sealed value in the store may need a KEK this gateway does not have.
   */
  async checkAtStart(present: Record<string, string[]> = {}): Promise<void> {
    if (!this.record) return;
    const now = this.record.clock();
    const needs = parseNeeds(await this.record.store.getSetting(SEALED_SECRETS_SETTING));
    // Uses whose values are few and read whole (the SSF streams' headers, one setting) are judged
    // by the KEKs those values name (`sealedWith`), not by the record: exact, and no race between
    // two gateways resealing them under different KEKs during a rotation.
    for (const [use, kids] of Object.entries(present)) needs[use] = Object.fromEntries(kids.map((kid) => [kid, null]));
    const have = this.kek?.ids ?? [];
    const missing = new Map<string, { uses: string[]; until: number | null }>();
    for (const [use, keks] of Object.entries(needs)) {
      for (const [kid, until] of Object.entries(keks)) {
        if (have.includes(kid) || (until !== null && until <= now)) continue;
        const entry = missing.get(kid) ?? { uses: [], until };
        entry.uses.push(use);
        entry.until = entry.until === null || until === null ? null : Math.max(entry.until, until);
        missing.set(kid, entry);
      }
    }
    if (missing.size === 0) return;
    const what = [...missing].map(([kid, { uses, until }]) => `${kid} (${uses.join(', ')}; needed ${until === null ? 'until they are written again' : `until ${new Date(until).toISOString().slice(0, 10)}`})`).join(', ');
    if (!this.kek) {
      throw new KeyEncryptionError(`secrets in the store are sealed with KEK ${what}, but ${KEK_ENV} is not set: start with the KEK they were sealed with`);
    }
    throw new KeyEncryptionError(
      `secrets in the store are sealed with KEK ${what}, which is neither ${KEK_ENV} (${this.kek.ids[0]}) nor ${PREVIOUS_KEK_ENV}${this.kek.ids[1] ? ` (${this.kek.ids[1]})` : ' (not set)'}: set ${PREVIOUS_KEK_ENV} to the KEK they were sealed with`,
    );
  }

  private async note(use: SealUse): Promise<void> {
    if (!this.record || !this.kek) return;
    const kid = this.kek.id;
    // Rounded up to the next day: one write a day at most per use and process, not one a seal.
    const until = use.until === null ? null : Math.ceil(use.until / DAY_MS) * DAY_MS + DAY_MS;
    const key = `${use.use}\n${kid}`;
    const seen = this.noted.get(key);
    if (seen !== undefined && (seen === null || (until !== null && seen >= until))) return;
    await this.update((needs) => {
      const keks = needs[use.use] ?? {};
      const had = keks[kid];
      if (had === null || (had !== undefined && until !== null && had >= until)) return false;
      needs[use.use] = { ...keks, [kid]: until };
      return true;
    });
    this.noted.set(key, until);
  }

  /** Read, change, compare-and-set: concurrent gateways each add their part. */
  private async update(change: (needs: Needs) => boolean): Promise<void> {
    const store = this.record!.store;
    for (let attempt = 0; attempt < 10; attempt++) {
      const raw = await store.getSetting(SEALED_SECRETS_SETTING);
      const needs = parseNeeds(raw);
      if (!change(needs)) return;
      if (await store.compareAndSetSetting(SEALED_SECRETS_SETTING, raw, JSON.stringify(needs))) return;
    }
    throw new KeyEncryptionError(`could not record which KEK sealed a secret (the ${SEALED_SECRETS_SETTING} setting kept changing): try again`);
  }
}

/** Whether a stored value is sealed (for tests and `tessera admin` checks). */
export const isSealed = (stored: string): boolean => stored.startsWith(SEALED);
