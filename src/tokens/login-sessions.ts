/**
 * Login sessions behind `POST /api/v1/login`: a short-lived access token and a refresh token
 * (5 minutes and 30 days by default: a leaked access token is short-lived). Each refresh rotates the refresh
 * token; presenting an already-rotated one revokes the whole login (RFC 9700 §4.14.2), because
 * then either the user or a thief holds a copy.
 */
import type { AuditTrail } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { InvalidGrant, NotFound } from '../errors.js';
import { newSessionId } from '../ids.js';
import type { UserRecord } from '../store/records.js';
import type { SessionRecord, SessionUse, Store } from '../store/store.js';
import { hashSecret, newSecret, parseSecret, type ParsedSecret } from './format.js';
import type { CredentialsNotBefore } from './not-before.js';
import type { ProviderSignIn, ProviderSignIns } from './provider-sign-ins.js';

/** The part of the store this uses: login sessions and their owners. */
export type SessionStore = Pick<Store, 'createSession' | 'findSessionByRefresh' | 'getUser' | 'listUserSessions' | 'revokeSession' | 'rotateRefreshToken' | 'useAccessToken'>;

const REFRESH_REFUSED = 'refresh token is invalid, expired or revoked';

export interface LoginTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  refresh_expires_in: number;
}

/** Everything a user is signed in with: logins (API, browser) and OpenID Provider grants. */
export interface RunningSignIns {
  logins: SessionRecord[];
  grants: ProviderSignIn[];
}

export class SessionService {
  constructor(
    private readonly store: SessionStore,
    private readonly config: TesseraConfig['auth'],
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly notBefore?: CredentialsNotBefore,
    private readonly grants?: ProviderSignIns,
  ) {}

  /** The emergency switch's stamp, held in memory (the store checks the user's own). */
  private beforeSwitch(session: { createdAt: number }): boolean {
    return this.notBefore !== undefined && session.createdAt < this.notBefore.global();
  }

  private answer(access: string, refresh: string, now: number, accessExpiresAt: number, sessionEnd: number): LoginTokens {
    return {
      access_token: access,
      refresh_token: refresh,
      token_type: 'Bearer',
      expires_in: Math.round((accessExpiresAt - now) / 1000),
      refresh_expires_in: Math.round((sessionEnd - now) / 1000),
    };
  }

  /**
   * Starts a login. API logins get the configured short access token and long refresh token; a
   * browser session (`lifetime` given) gets one access token that lives as long as the session,
   * kept in an HttpOnly cookie, and its refresh token is simply never handed out.
   */
  async start(user: UserRecord, ip: string, lifetime?: number, userAgent?: string): Promise<LoginTokens> {
    const now = this.clock();
    const access = newSecret('access', user.id);
    const refresh = newSecret('refresh', user.id);
    const expiresAt = now + (lifetime ?? this.config.refreshTokenTtl);
    // The access token never outlives the login it belongs to.
    const accessExpiresAt = Math.min(now + (lifetime ?? this.config.accessTokenTtl), expiresAt);
    await this.store.createSession(
      {
        id: newSessionId(),
        userId: user.id,
        createdAt: now,
        expiresAt,
        refreshHash: hashSecret(refresh),
        ip,
        kind: lifetime === undefined ? 'api' : 'browser',
        // Shown to the user to recognise their devices; control characters never reach a page or a terminal.
        ...(userAgent ? { userAgent: userAgent.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) } : {}),
      },
      hashSecret(access),
      accessExpiresAt,
    );
    return this.answer(access, refresh, now, accessExpiresAt, expiresAt);
  }

  async refresh(refreshToken: unknown): Promise<LoginTokens> {
    const parsed = typeof refreshToken === 'string' ? parseSecret(refreshToken) : null;
    if (parsed?.kind !== 'refresh') throw new InvalidGrant(REFRESH_REFUSED);
    const now = this.clock();
    const access = newSecret('access', parsed.userId);
    const refresh = newSecret('refresh', parsed.userId);
    const next = { refreshHash: hashSecret(refresh), accessHash: hashSecret(access), accessExpiresAt: now + this.config.accessTokenTtl };
    const rotate = () => this.store.rotateRefreshToken(parsed.userId, parsed.hash, next, now);
    // Reuse revokes the whole login: a change, so its event is written ahead when the reuse is
    // visible beforehand (a session whose current refresh token is another one). Only a reuse
    // racing the legitimate rotation is seen afterwards, and then recorded afterwards.
    const known = await this.store.findSessionByRefresh(parsed.userId, parsed.hash);
    const reuse = { type: 'session.refresh_reused' as const, outcome: 'succeeded' as const, target: { userId: parsed.userId }, details: { sessionId: known?.id ?? null } };
    const result = known && known.refreshHash !== parsed.hash ? await this.audit.around(reuse, rotate) : await rotate();
    if (result.outcome === 'reused' && known?.refreshHash === parsed.hash) await this.audit.record(reuse);
    // One answer for forged, unknown, expired, revoked and rotated-out tokens: telling a reused
    // one apart would confirm to a thief that the token was real (and that the login just ended).
    if (result.outcome !== 'ok' || this.beforeSwitch(result.session)) throw new InvalidGrant(REFRESH_REFUSED);
    // Sessions end absolutely; a rotated access token is clipped to the session's end too.
    return this.answer(access, refresh, now, Math.min(next.accessExpiresAt, result.session.expiresAt), result.session.expiresAt);
  }

  /** `parsed`: the caller's `parseSecret(secret)`, when it already has it. */
  async verifyAccess(secret: string, parsed: ParsedSecret = parseSecret(secret)): Promise<SessionUse | null> {
    if (parsed.kind !== 'access') return null;
    const use = await this.store.useAccessToken(parsed.userId, parsed.hash, this.clock());
    return use && !this.beforeSwitch(use.session) ? use : null;
  }

  /**
   * The login a refresh token currently belongs to, for introspection: read only (nothing
   * rotates). A rotated-out, revoked or expired token, or one of a disabled user or from before
   * a revoke-all, finds nothing.
   */
  async inspectRefresh(secret: string): Promise<SessionUse | null> {
    const parsed = parseSecret(secret);
    if (parsed.kind !== 'refresh') return null;
    const session = await this.store.findSessionByRefresh(parsed.userId, parsed.hash);
    if (!session || session.refreshHash !== parsed.hash || session.revokedAt || session.expiresAt <= this.clock() || this.beforeSwitch(session)) return null;
    const user = await this.store.getUser(parsed.userId);
    if (!user?.enabled || session.createdAt < user.sessionsNotBefore || session.createdAt < (user.credentialsNotBefore ?? 0)) return null;
    return { session, user, accessExpiresAt: session.expiresAt };
  }

  /** The user's running logins (API and browser), oldest first. */
  list(userId: string): Promise<SessionRecord[]> {
    return this.store.listUserSessions(userId, this.clock());
  }

  /** The user's running logins and provider sign-ins (relying parties, the CLI's SSO login). */
  async running(userId: string): Promise<RunningSignIns> {
    const [logins, grants] = await Promise.all([this.list(userId), this.grants?.list(userId) ?? []]);
    return { logins, grants };
  }

  /**
   * Signs one running sign-in of the user out: a login, or a provider grant with all its tokens.
   * NotFound when the user has no such running sign-in.
   */
  async revokeRunning(userId: string, sessionId: string): Promise<void> {
    const running = await this.list(userId);
    if (running.some((s) => s.id === sessionId)) return this.revoke(userId, sessionId);
    if (!(await this.grants?.end(userId, sessionId))) throw new NotFound('no such running session');
  }

  async revoke(userId: string, sessionId: string): Promise<void> {
    await this.audit.around({ type: 'logout', target: { userId }, details: { sessionId } }, () => this.store.revokeSession(userId, sessionId, this.clock()));
  }

  /** Logout or RFC 7009 with a refresh token: ends the login it belongs to. */
  async revokeByRefresh(secret: string): Promise<void> {
    const parsed = parseSecret(secret);
    if (parsed.kind !== 'refresh') return;
    const session = await this.store.findSessionByRefresh(parsed.userId, parsed.hash);
    if (session) await this.revoke(parsed.userId, session.id);
  }
}
