/**
 * Password hashing with scrypt (memory-hard, in Node's crypto: no native addon to build).
 * Format: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be raised later and old
 * hashes still verify.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** N=2^15, r=8 needs 32 MiB; allow twice N*r*128 so any configured cost fits. */
const maxmem = (N: number, r: number) => 2 * 128 * N * r + 1024 * 1024;

export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const r = 8;
  const p = 1;
  const key = await scrypt(password, salt, { N: cost, r, p, maxmem: maxmem(cost, r) });
  return ['scrypt', cost, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const N = Number(n);
  const R = Number(r);
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), { N, r: R, p: Number(p), maxmem: maxmem(N, R) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password with the configured cost, verified when the user does not exist
 * so that "unknown user" takes as long as "wrong password".
 */
export function dummyHash(cost: number): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'), cost);
}
