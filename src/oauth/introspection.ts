/**
 * RFC 7662 introspection and RFC 7009 revocation for the tokens Tessera issues itself.
 *
 * Fail closed: the answer is `{active:false}` until every check has passed, and a store that
 * cannot answer raises 503 rather than anything that could be read as active.
 */
import type { ClientConfig } from '../config/schema.js';
import { UnsupportedTokenType } from '../errors.js';
import { parseSecret, type ParsedSecret } from '../tokens/format.js';
import type { PatService } from '../tokens/pat-service.js';
import type { SessionService } from '../tokens/login-sessions.js';

export type IntrospectionAnswer = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE = { active: false } as const;

export class Introspection {
  constructor(
    private readonly issuer: string,
    private readonly pats: PatService,
    private readonly sessions: SessionService,
  ) {}

  /** `parsed`: the caller's `parseSecret(token)`, when it has one, so the secret is hashed once. */
  async introspect(client: ClientConfig, token: string, ip: string, parsed: ParsedSecret = parseSecret(token)): Promise<IntrospectionAnswer> {
    // Only resource servers may learn about users' tokens.
    if (!client.resourceServer) return INACTIVE;
    switch (parsed.kind) {
      case 'pat':
        return this.introspectPat(token, ip, parsed);
      case 'access':
        return this.introspectAccess(token, parsed);
      case 'refresh':
        return this.introspectRefresh(token);
      default:
        return INACTIVE;
    }
  }

  private async introspectPat(token: string, ip: string, parsed: ParsedSecret): Promise<IntrospectionAnswer> {
    const use = await this.pats.verify(token, ip, parsed);
    if (!use) return INACTIVE;
    const { token: record, user } = use;
    return {
      active: true,
      scope: record.scope,
      token_type: 'Bearer',
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.createdAt / 1000),
      iss: this.issuer,
      sub: user.id,
      username: user.username,
      jti: record.id,
      token_use: 'personal_access_token',
      token_name: record.name,
      user_source: user.source,
    };
  }

  private async introspectAccess(token: string, parsed: ParsedSecret): Promise<IntrospectionAnswer> {
    const use = await this.sessions.verifyAccess(token, parsed);
    if (!use) return INACTIVE;
    return {
      active: true,
      scope: '',
      token_type: 'Bearer',
      iat: Math.floor(use.session.createdAt / 1000),
      exp: Math.floor(use.accessExpiresAt / 1000),
      iss: this.issuer,
      sub: use.user.id,
      username: use.user.username,
      token_use: 'login',
      user_source: use.user.source,
    };
  }

  private async introspectRefresh(token: string): Promise<IntrospectionAnswer> {
    const use = await this.sessions.inspectRefresh(token);
    if (!use) return INACTIVE;
    return {
      active: true,
      scope: '',
      iat: Math.floor(use.session.createdAt / 1000),
      exp: Math.floor(use.session.expiresAt / 1000),
      iss: this.issuer,
      sub: use.user.id,
      username: use.user.username,
      token_use: 'refresh',
      user_source: use.user.source,
    };
  }

  /** RFC 7009: always "done" for unknown tokens; a login's access or refresh token ends the login. */
  async revoke(client: ClientConfig, token: string): Promise<void> {
    // Users' credentials are for the APIs that serve them to revoke (say, on seeing one leak);
    // any other client is refused whether or not the token exists (no oracle), RFC 7009 §2.2.1.
    if (!client.resourceServer) throw new UnsupportedTokenType('only resource servers may revoke users\' tokens');
    switch (parseSecret(token).kind) {
      case 'pat':
        return this.pats.revokeBySecret(token, `client:${client.id}`);
      case 'refresh':
        return this.sessions.revokeByRefresh(token);
      case 'access': {
        const use = await this.sessions.verifyAccess(token);
        if (use) await this.sessions.revoke(use.user.id, use.session.id);
        return;
      }
      default:
        return;
    }
  }
}
