/**
 * RFC 9701 signed introspection answers for the tokens Tessera introspects itself (PATs, login
 * tokens). A resource server that sends `Accept: application/token-introspection+jwt` gets the
 * RFC 7662 answer inside a JWT signed with the provider's current signing key, so it can check
 * the answer came from Tessera (against /oauth2/jwks) even through proxies or caches.
 * oidc-provider answers the same way for its own tokens (features.jwtIntrospection).
 */
import { importJWK, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { IntrospectionAnswer } from './introspection.js';

export const INTROSPECTION_JWT = 'application/token-introspection+jwt';

/** Imported keys by kid, so each key is imported once. */
const imported = new Map<string, Promise<CryptoKey | KeyObject | Uint8Array>>();

export async function signIntrospection(current: JWK, issuer: string, audience: string, answer: IntrospectionAnswer, now: number): Promise<string> {
  const kid = current.kid!;
  let key = imported.get(kid);
  if (!key) {
    key = importJWK(current, 'RS256');
    imported.set(kid, key);
  }
  // §5: iss, aud (the resource server) and iat; the RFC 7662 members go in token_introspection.
  return new SignJWT({ token_introspection: answer })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'token-introspection+jwt' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(Math.floor(now / 1000))
    .sign(await key);
}
