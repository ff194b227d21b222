/**
 * Security Event Tokens (RFC 8417) as SSF 1.0 profiles them: `iss`, `aud` (the stream's),
 * `jti` (the signal's id, stable across retries so a receiver drops duplicates), `iat`, `txn`
 * (the audit event: one action, one transaction), `sub_id` at the top level (SSF §4.1.2) and one
 * entry in `events`. Signed with the provider's current signing key (`typ: secevent+jwt`, §2.3 of
 * RFC 8417), so a receiver verifies it against the same JWKS as ID tokens.
 *
 * Subjects (RFC 9493 with SSF's `complex` format): `user` lists the account as `iss_sub` (sub is
 * the OIDC `sub`, Tessera's user id) and, when known, `email`; a PAT event adds `token` (opaque:
 * the token id a cached introspection answer is keyed by) and a logout adds `session`.
 */
import { importJWK, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { EVENT_URIS, VERIFICATION_URI, type Signal } from './events.js';

/** A SET's claims before signing (`iat` is set when signed). */
export interface SetClaims {
  jti: string;
  aud: string | string[];
  txn?: string;
  sub_id: Record<string, unknown>;
  events: Record<string, Record<string, unknown>>;
}

function subjectOf(issuer: string, signal: Signal, email?: string): Record<string, unknown> {
  const identifiers: Record<string, unknown>[] = [{ format: 'iss_sub', iss: issuer, sub: signal.subject.userId }];
  if (email) identifiers.push({ format: 'email', email });
  return {
    format: 'complex',
    user: { format: 'aliases', identifiers },
    ...(signal.subject.tokenId ? { token: { format: 'opaque', id: signal.subject.tokenId } } : {}),
    ...(signal.subject.sessionId ? { session: { format: 'opaque', id: signal.subject.sessionId } } : {}),
  };
}

export function setClaims(issuer: string, audience: string, signal: Signal, email?: string): SetClaims {
  return {
    jti: signal.id,
    aud: audience,
    txn: signal.txn,
    sub_id: subjectOf(issuer, signal, email),
    events: { [EVENT_URIS[signal.name]]: { ...signal.fields, event_timestamp: Math.floor(signal.time / 1000) } },
  };
}

/** SSF §8.1.4.2: the verification event names the stream as an opaque subject and echoes `state`. */
export function verificationClaims(jti: string, audience: string, streamId: string, state?: string): SetClaims {
  return { jti, aud: audience, sub_id: { format: 'opaque', id: streamId }, events: { [VERIFICATION_URI]: state === undefined ? {} : { state } } };
}

/** Imported keys by kid, so each key is imported once. */
const imported = new Map<string, Promise<CryptoKey | KeyObject | Uint8Array>>();

export async function signSet(key: JWK, issuer: string, claims: SetClaims, now: number): Promise<string> {
  const kid = key.kid!;
  const alg = key.alg ?? 'RS256';
  let privateKey = imported.get(kid);
  if (!privateKey) {
    privateKey = importJWK(key, alg);
    imported.set(kid, privateKey);
  }
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg, kid, typ: 'secevent+jwt' })
    .setIssuer(issuer)
    .setIssuedAt(Math.floor(now / 1000))
    .sign(await privateKey);
}
