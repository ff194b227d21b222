/**
 * Signing keys for ID tokens and JWT access tokens, and the keys that sign the provider's
 * cookies. Generated at first start and kept in the store, so every gateway instance signs with
 * the same keys and a restart does not invalidate tokens or sessions.
 *
 * Rotation (`rotateSigningKey`, behind `POST /api/v1/admin/keys/rotate`): a new key becomes the
 * signing key; older keys stay in JWKS, so tokens they signed still verify, until their
 * retirement time (config `oidc.keyRetirement`, longer than any token's lifetime) passes.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomBase62 } from '../ids.js';
import type { Store } from '../store/store.js';

const JWKS_SETTING = 'oidc:signing-keys';
const COOKIE_SETTING = 'oidc:cookie-keys';

export interface StoredKey {
  jwk: JWK;
  createdAt: number;
  /** When set, the key is no longer used to sign and leaves JWKS at this time. */
  retireAt?: number;
}

async function newSigningKey(now: number): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { jwk: { ...jwk, kid: `${new Date(now).toISOString().slice(0, 10)}-${randomBase62(8)}`, alg: 'RS256', use: 'sig' }, createdAt: now };
}

function parse(value: string): StoredKey[] {
  return (JSON.parse(value) as { keys: StoredKey[] }).keys;
}

/** The keys in force: creates the first one if the store has none (first writer wins). */
export async function loadSigningKeys(store: Store, now = Date.now()): Promise<StoredKey[]> {
  const existing = await store.getSetting(JWKS_SETTING);
  const value = existing ?? (await store.initSetting(JWKS_SETTING, JSON.stringify({ keys: [await newSigningKey(now)] })));
  return parse(value).filter((k) => k.retireAt === undefined || k.retireAt > now);
}

/** Raw setting value, for cheap change detection by other instances. */
export function signingKeysVersion(store: Store): Promise<string | null> {
  return store.getSetting(JWKS_SETTING);
}

export async function rotateSigningKey(store: Store, retireAfterMs: number, now = Date.now()): Promise<{ kid: string; retiring: string[] }> {
  const current = await loadSigningKeys(store, now);
  const next = await newSigningKey(now);
  const retired = current.map((k) => ({ ...k, retireAt: k.retireAt ?? now + retireAfterMs }));
  await store.setSetting(JWKS_SETTING, JSON.stringify({ keys: [next, ...retired] }));
  return { kid: next.jwk.kid!, retiring: retired.map((k) => k.jwk.kid!) };
}

/** The JWKS oidc-provider signs with: the current key first, then retiring ones. */
export function providerJwks(keys: StoredKey[]): { keys: JWK[] } {
  return { keys: [...keys].sort((a, b) => Number(a.retireAt !== undefined) - Number(b.retireAt !== undefined)).map((k) => k.jwk) };
}

/** Cookie keys from config, else generated once and shared through the store. */
export async function cookieKeys(store: Store, configured: string[] | undefined): Promise<string[]> {
  if (configured?.length) return configured;
  const value = await store.initSetting(COOKIE_SETTING, JSON.stringify([randomBytes(32).toString('base64url')]));
  return JSON.parse(value) as string[];
}
