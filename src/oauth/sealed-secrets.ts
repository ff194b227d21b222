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
 */
import { KeyEncryptionError, type KeyEncryption } from './key-encryption.js';

const SEALED = 'tessera-sealed:';

export interface OpenedSecret {
  secret: string;
  /** Stored in clear or with the previous KEK while a current KEK is set: write it again sealed. */
  reseal: boolean;
}

export class SealedSecrets {
  constructor(private readonly kek: KeyEncryption | null) {}

  async seal(secret: string): Promise<string> {
    return this.kek ? SEALED + (await this.kek.wrap(secret)) : secret;
  }

  /** Throws `KeyEncryptionError` for a sealed value without the KEK it was sealed with. */
  async open(stored: string): Promise<OpenedSecret> {
    if (!stored.startsWith(SEALED)) return { secret: stored, reseal: this.kek !== null };
    if (!this.kek) throw new KeyEncryptionError('a secret in the store is sealed with a KEK, but TESSERA_KEY_ENCRYPTION_KEY is not set: start with the KEK it was written with');
    const { plaintext, stale } = await this.kek.unwrap(stored.slice(SEALED.length));
    return { secret: plaintext, reseal: stale };
  }
}

/** Whether a stored value is sealed (for tests and `tessera admin` checks). */
export const isSealed = (stored: string): boolean => stored.startsWith(SEALED);
