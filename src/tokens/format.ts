/**
 * Secret formats. Every secret Tessera hands out looks like
 *
 *     <prefix>_<owner id: 12><random: 32><crc32: 6>        e.g. tsr_3kT9...Qa1xY0
 *
 * - prefix: `tsr` personal access token, `tsa` login access token, `tsrt` login refresh token.
 *   A fixed, distinctive prefix lets secret scanners (GitHub push protection, gitleaks, ...)
 *   find leaked tokens.
 * - owner id: the user's id; it routes the lookup to the user's keys (one Redis Cluster slot).
 *   It is not secret.
 * - random: 32 base62 characters from the CSPRNG, about 190 bits.
 * - crc32: base62 CRC-32 of everything before it, the GitHub scheme: typos and truncations are
 *   rejected without a store lookup, and scanners can check candidates offline.
 *
 * Only the SHA-256 of the whole secret is stored. SHA-256 is the right hash here: the secret has
 * 190 random bits, so a slow password hash would add nothing but latency on the hot path.
 */
import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { BASE62, USER_ID_LENGTH, randomBase62 } from '../ids.js';

const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

export type SecretKind = 'pat' | 'access' | 'refresh';

const PREFIX: Record<SecretKind, string> = { pat: 'tsr_', access: 'tsa_', refresh: 'tsrt_' };

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function newSecret(kind: SecretKind, userId: string): string {
  const body = PREFIX[kind] + userId + randomBase62(RANDOM_LENGTH);
  return body + checksum(body);
}

/**
 * What a presented string is, decided once: the one place that tells token kinds apart.
 *
 * - `pat` / `access` / `refresh`: a well-formed Tessera secret whose checksum holds, with the
 *   owner id that routes the lookup and the SHA-256 it is stored under.
 * - `jwt`: three base64url parts (header.payload.signature): the OpenID Provider's RFC 9068
 *   access tokens, checked by signature, never by a store lookup.
 * - `unknown`: anything else. `claimed` is the kind its prefix claims when it starts like a
 *   Tessera secret (a typo, a truncation, a forgery): Tessera's to refuse, never handed on to the
 *   OpenID Provider as one of its opaque tokens; null otherwise.
 */
export type ParsedSecret =
  | TesseraSecret
  | { kind: 'jwt' }
  | { kind: 'unknown'; claimed: SecretKind | null };

/** A well-formed Tessera secret of one kind. */
export type TesseraSecret = { [K in SecretKind]: { kind: K; userId: string; hash: string } }[SecretKind];

const SHAPE = /^(tsr|tsa|tsrt)_([0-9A-Za-z]{50})$/;
const PREFIXED = /^(tsr|tsa|tsrt)_/;
const KIND_OF: Record<string, SecretKind> = { tsr: 'pat', tsa: 'access', tsrt: 'refresh' };
/** Longest JWT worth a signature check; longer ones are `unknown`. */
const MAX_JWT_LENGTH = 8192;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Recognises a presented secret. A Tessera secret's checksum is checked here, so garbage and
 * typos never reach the store. Cheap on any input: a string longer than any token is looked at
 * only by its prefix.
 */
export function parseSecret(secret: string): ParsedSecret {
  const prefix = PREFIXED.exec(secret);
  if (prefix) {
    const claimed = KIND_OF[prefix[1]!]!;
    const match = secret.length <= 64 ? SHAPE.exec(secret) : null;
    if (!match) return { kind: 'unknown', claimed };
    const rest = match[2]!;
    const body = secret.slice(0, secret.length - CHECKSUM_LENGTH);
    if (checksum(body) !== rest.slice(-CHECKSUM_LENGTH)) return { kind: 'unknown', claimed };
    return { kind: claimed, userId: rest.slice(0, USER_ID_LENGTH), hash: hashSecret(secret) };
  }
  if (secret.length <= MAX_JWT_LENGTH && JWT_SHAPE.test(secret)) return { kind: 'jwt' };
  return { kind: 'unknown', claimed: null };
}

/** Whether Tessera answers for this secret itself: one of its own, or one that claims to be. */
export function isTesseraSecret(parsed: ParsedSecret): boolean {
  switch (parsed.kind) {
    case 'pat':
    case 'access':
    case 'refresh':
      return true;
    case 'jwt':
      return false;
    case 'unknown':
      return parsed.claimed !== null;
  }
}

/**
 * The kind a string claims to be by its prefix and shape, without the checksum or hash work of
 * `parseSecret`: for labels and log fields, never for a decision.
 */
export function claimedKind(secret: string): SecretKind | null {
  const match = secret.length <= 64 ? SHAPE.exec(secret) : null;
  return match ? KIND_OF[match[1]!]! : null;
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

