/**
 * RFC 7662 introspection of the gateway's own RFC 9068 JWT access tokens. oidc-provider does not
 * store them and does not introspect them, and a JWT cannot be deleted: the issue-time stamps of
 * "revoke all of a user's tokens" and the emergency switch (`CredentialsNotBefore`) are the only
 * way to end one before its `exp`, so resource servers that must honour a revoke introspect.
 *
 * Fail closed: `{active:false}` until the signature (a current signing key), issuer, type,
 * expiry, the caller's right to see it, and the owner's stamps have all passed.
 */
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { ClientConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { CredentialsNotBefore } from '../tokens/not-before.js';
import type { IntrospectionAnswer } from './introspection.js';

/** The part of the store this uses: the token owner's stamps. */
export type JwtIntrospectionStore = Pick<Store, 'getUser'>;

const INACTIVE = { active: false } as const;

/** Private members of an RSA/EC JWK: never part of a verification key set. */
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

export function publicKeySet(jwks: { keys: JWK[] }): ReturnType<typeof createLocalJWKSet> {
  return createLocalJWKSet({ keys: jwks.keys.map((key) => Object.fromEntries(Object.entries(key).filter(([k]) => !(PRIVATE as readonly string[]).includes(k)))) });
}

export class JwtIntrospection {
  constructor(
    private readonly issuer: string,
    private readonly store: JwtIntrospectionStore,
    private readonly notBefore: CredentialsNotBefore,
    /** The provider's current verification keys (they change on rotation). */
    private readonly keys: () => ReturnType<typeof createLocalJWKSet>,
  ) {}

  private async verified(token: string): Promise<JWTPayload | null> {
    try {
      const { payload } = await jwtVerify(token, this.keys(), { issuer: this.issuer, typ: 'at+jwt', requiredClaims: ['exp', 'iat', 'sub', 'client_id'] });
      return payload;
    } catch {
      return null;
    }
  }

  /** Still valid for its owner: a user's stamps, or, for a client's own token, the global one. */
  private async ownerAllows(payload: JWTPayload): Promise<boolean> {
    const issuedAt = payload.iat! * 1000;
    const user = await this.store.getUser(payload.sub!);
    if (user) return user.enabled && issuedAt >= user.sessionsNotBefore && this.notBefore.allows(user, issuedAt);
    return payload.sub === payload.client_id && this.notBefore.allowsUnowned(issuedAt);
  }

  async introspect(caller: ClientConfig, token: string): Promise<IntrospectionAnswer> {
    const payload = await this.verified(token);
    if (!payload) return INACTIVE;
    // As for the provider's opaque tokens: the client it was issued to, or a resource server
    // that serves one of its audiences.
    const audiences = ([] as string[]).concat(payload.aud ?? []);
    const mine = payload.client_id === caller.id;
    if (!mine && !(caller.resourceServer && audiences.some((aud) => caller.resources.includes(aud)))) return INACTIVE;
    if (!(await this.ownerAllows(payload))) return INACTIVE;
    return {
      active: true,
      token_type: 'Bearer',
      token_use: 'access_token',
      iss: payload.iss,
      sub: payload.sub,
      client_id: payload.client_id,
      aud: payload.aud,
      scope: payload.scope,
      iat: payload.iat,
      exp: payload.exp,
      jti: payload.jti,
    };
  }
}
