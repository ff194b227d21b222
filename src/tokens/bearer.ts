/**
 * One bearer check for every credential the gateway's own API accepts: personal access tokens
 * and login access tokens, as `Authorization: Bearer` or as the password of HTTP Basic
 * (`username:<token>`, for WebDAV-style clients; the username must be the token's owner).
 */
import type { UserRecord } from '../store/records.js';
import { isTesseraSecret, parseSecret, type ParsedSecret } from './format.js';
import { splitScopes } from './scopes.js';
import type { PatService } from './pat-service.js';
import type { Principal } from './principal.js';
import type { SessionService } from './login-sessions.js';

/**
 * Access tokens the OpenID Provider issued to Tessera's own CLI (`tessera login --sso`), which
 * act as a full login. Supplied by src/oauth once the provider is running.
 */
export interface ProviderLogins {
  /** The enabled owner of an active access token issued to the CLI and its issue time (ms), else null. */
  verify(token: string): Promise<{ user: UserRecord; issuedAt: number } | null>;
  /** Ends the grant of a refresh (or access) token issued to the CLI. */
  revoke(token: string): Promise<void>;
}

export class BearerAuthenticator {
  private providerLogins: ProviderLogins | undefined;

  constructor(
    private readonly pats: PatService,
    private readonly sessions: SessionService,
  ) {}

  useProviderLogins(logins: ProviderLogins): void {
    this.providerLogins = logins;
  }

  /** Logout of an SSO login made through the provider. */
  async revokeProviderLogin(token: string): Promise<void> {
    await this.providerLogins?.revoke(token);
  }

  async authenticate(secret: string, ip: string): Promise<Principal | null> {
    const parsed = parseSecret(secret);
    // Tessera's own secrets (and strings that claim to be) are Tessera's to check; anything else
    // may be an access token from the OpenID Provider.
    if (!isTesseraSecret(parsed)) {
      const login = await this.providerLogins?.verify(secret);
      return login ? { user: login.user, via: 'oidc', scopes: null, issuedAt: login.issuedAt } : null;
    }
    switch (parsed.kind) {
      case 'access': {
        const use = await this.sessions.verifyAccess(secret, parsed);
        return use && { user: use.user, via: 'session', scopes: null, sessionId: use.session.id, issuedAt: use.session.createdAt };
      }
      case 'pat':
        return this.verifyPat(secret, ip, parsed);
      default:
        return null;
    }
  }

  private async verifyPat(secret: string, ip: string, parsed: ParsedSecret): Promise<Principal | null> {
    const use = await this.pats.verify(secret, ip, parsed);
    if (!use) return null;
    const { token, user } = use;
    return {
      user,
      via: 'pat',
      scopes: token.scope ? splitScopes(token.scope) : null,
      tokenId: token.id,
      issuedAt: token.createdAt,
      // Its current expiry: a sliding token may lapse at the end of this window.
      expiryCeiling: token.expiresAt,
    };
  }

  async authenticateBasic(username: string, secret: string, ip: string): Promise<Principal | null> {
    const principal = await this.authenticate(secret, ip);
    return principal && principal.user.username === username ? principal : null;
  }
}
