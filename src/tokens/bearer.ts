/**
 * One bearer check for every credential the gateway's own API accepts: personal access tokens
 * and login access tokens, as `Authorization: Bearer` or as the password of HTTP Basic
 * (`username:<token>`, for WebDAV-style clients; the username must be the token's owner).
 */
import { splitScopes } from './scopes.js';
import type { PatService } from './pat-service.js';
import type { Principal } from './principal.js';
import type { SessionService } from './sessions.js';

export class BearerAuthenticator {
  constructor(
    private readonly pats: PatService,
    private readonly sessions: SessionService,
  ) {}

  async authenticate(secret: string, ip: string): Promise<Principal | null> {
    if (secret.startsWith('tsa_')) {
      const use = await this.sessions.verifyAccess(secret);
      return use && { user: use.user, via: 'session', scopes: null, sessionId: use.session.id };
    }
    const use = await this.pats.verify(secret, ip);
    if (!use) return null;
    const { token, user } = use;
    return {
      user,
      via: 'pat',
      scopes: token.scope ? splitScopes(token.scope) : null,
      tokenId: token.id,
      expiryCeiling: token.maxLifetimeAt ?? token.expiresAt,
    };
  }

  async authenticateBasic(username: string, secret: string, ip: string): Promise<Principal | null> {
    const principal = await this.authenticate(secret, ip);
    return principal && principal.user.username === username ? principal : null;
  }
}
