/**
 * Secrets at rest: the signing and cookie keys Tessera keeps in the store are encrypted with a
 * key-encryption key (KEK) that only the gateway processes hold, from the environment:
 *
 *   TESSERA_KEY_ENCRYPTION_KEY           32 random bytes, base64 (`openssl rand -base64 32`)
 *   TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS  the KEK being replaced, while rotating it (optional)
 *
 * A stored value is a compact JWE (RFC 7516; `dir` + `A256GCM` through jose: authenticated
 * encryption, a fresh IV per write) whose `kid` header names the KEK by fingerprint, so a gateway
 * can tell which KEK a value needs and say so when it does not hold it. Values wrapped with the
 * previous KEK are readable and are re-wrapped with the current one at start-up; values stored
 * in clear (an older Tessera, or no KEK) are wrapped at start-up once a KEK is set.
 *
 * Anyone who reads Redis without the KEK sees ciphertext only: they can neither forge ID tokens
 * and JWT access tokens nor provider cookies.
 */
import { createHash } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';

export const KEK_ENV = 'TESSERA_KEY_ENCRYPTION_KEY';
export const PREVIOUS_KEK_ENV = 'TESSERA_KEY_ENCRYPTION_KEY_PREVIOUS';

/** A KEK that is missing where needed, malformed, or does not open a stored value. */
export class KeyEncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionError';
  }
}

interface Kek {
  id: string;
  key: Uint8Array;
}

function parseKek(name: string, value: string): Kek {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim())) {
    throw new KeyEncryptionError(`${name} must be 32 random bytes in base64 (e.g. openssl rand -base64 32), got ${key.length} bytes`);
  }
  // A fingerprint, not the key: SHA-256 is one-way, and 64 bits tell KEKs apart.
  return { id: `kek-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`, key: new Uint8Array(key) };
}

/** A stored value written by `wrap` (a compact JWE has five dot-separated parts); else clear JSON. */
export const isWrapped = (value: string): boolean => !/^\s*[[{]/.test(value) && value.split('.').length === 5;

export class KeyEncryption {
  private constructor(
    private readonly current: Kek,
    private readonly previous: Kek | undefined,
  ) {}

  /** From the environment; null when no KEK is set. Throws `KeyEncryptionError` on a malformed one. */
  static fromEnv(env: Record<string, string | undefined>): KeyEncryption | null {
    const current = env[KEK_ENV];
    const previous = env[PREVIOUS_KEK_ENV];
    if (!current) {
      if (previous) throw new KeyEncryptionError(`${PREVIOUS_KEK_ENV} is set but ${KEK_ENV} is not: set the new KEK too`);
      return null;
    }
    return new KeyEncryption(parseKek(KEK_ENV, current), previous ? parseKek(PREVIOUS_KEK_ENV, previous) : undefined);
  }

  /** The current KEK's fingerprint (never the key). */
  get id(): string {
    return this.current.id;
  }

  /** The fingerprints of the KEKs this can open with: the current one, then the previous one. */
  get ids(): string[] {
    return this.previous ? [this.current.id, this.previous.id] : [this.current.id];
  }

  async wrap(plaintext: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.current.id, cty: 'tessera-keys' })
      .encrypt(this.current.key);
  }

  /** Opens a wrapped value. `stale`: it was wrapped with the previous KEK and should be re-wrapped. */
  async unwrap(value: string): Promise<{ plaintext: string; stale: boolean }> {
    const kid = wrappedKeyId(value);
    const kek = [this.current, this.previous].find((k) => k?.id === kid);
    if (!kek) {
      throw new KeyEncryptionError(
        `the keys in the store are encrypted with KEK ${kid}, but ${KEK_ENV} is ${this.current.id}` +
          (this.previous ? ` and ${PREVIOUS_KEK_ENV} is ${this.previous.id}` : '') +
          `: set ${PREVIOUS_KEK_ENV} to the KEK they were written with`,
      );
    }
    try {
      const { plaintext } = await compactDecrypt(value, kek.key);
      return { plaintext: new TextDecoder().decode(plaintext), stale: kek !== this.current };
    } catch {
      // GCM's tag check failed: tampered, or a different key with a colliding fingerprint.
      throw new KeyEncryptionError(`the keys in the store could not be decrypted with KEK ${kid} (tampered or wrong key)`);
    }
  }
}

/** The `kid` of a wrapped value: which KEK it needs. */
export function wrappedKeyId(value: string): string {
  try {
    return String(decodeProtectedHeader(value).kid ?? 'unknown');
  } catch {
    throw new KeyEncryptionError('a stored key value is neither JSON nor a JWE');
  }
}
