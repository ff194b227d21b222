/**
 * Password login across the configured sources, behind the failure throttle. Every failure,
 * whatever its cause (unknown user, wrong password, disabled account), is the same 401.
 */
import { userTarget } from '../audit/actors.js';
import type { AuditRecord } from '../audit/event.js';
import type { AuditTrail } from '../audit/trail.js';
import { InvalidRequest, TemporarilyUnavailable, TooManyRequests, Unauthorized } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import type { Identity, PasswordSource } from './source.js';
import type { LoginThrottle } from './throttle.js';
import type { UserService } from './users.js';

export class LoginService {
  constructor(
    private readonly sources: PasswordSource[],
    private readonly users: UserService,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditTrail,
  ) {}

  /** The Tessera user for a verified identity; null when the name belongs to another source. */
  private async userFor(sourceId: string, identity: Identity): Promise<UserRecord | null> {
    if (sourceId === 'local') return this.users.get(identity.username);
    try {
      return await this.users.upsertExternal(identity);
    } catch (err) {
      if (err instanceof InvalidRequest) return null;
      throw err;
    }
  }

  listSources(): { id: string; displayName: string }[] {
    return this.sources.map(({ id, displayName }) => ({ id, displayName }));
  }

  /**
   * Checks the password against `sourceId`, or each source in configured order. Returns the
   * enabled Tessera user, or throws Unauthorized / TooManyRequests / TemporarilyUnavailable.
   */
  async login(username: string, password: string, ip: string, sourceId?: string): Promise<UserRecord> {
    if (!username || !password) throw new Unauthorized('invalid username or password', 'invalid_grant');
    if (username.length > 256 || password.length > 1024) throw new InvalidRequest('username or password too long');
    const sources = sourceId ? this.sources.filter((s) => s.id === sourceId) : this.sources;
    if (sourceId && sources.length === 0) throw new InvalidRequest(`unknown identity source: ${sourceId}`);

    await this.throttle.attempt(username, ip).catch(async (err) => {
      if (err instanceof TooManyRequests) await this.audit.record({ type: 'login.throttled', outcome: 'failed', reason: 'too_many_failures', target: { username }, source: sourceId });
      throw err;
    });
    // A source that cannot be reached does not stop the others; it matters only if no source
    // recognised the user, and then the answer is 503 rather than a misleading 401.
    let unavailable: unknown;
    let failure: AuditRecord = { type: 'login.failed', outcome: 'failed', reason: 'invalid_credentials', target: { username }, source: sourceId };
    for (const source of sources) {
      let identity;
      try {
        identity = await source.authenticate(username, password);
      } catch (err) {
        if (!(err instanceof TemporarilyUnavailable)) throw err;
        unavailable = err;
        continue;
      }
      if (!identity) continue;
      const user = await this.userFor(source.id, identity);
      if (!user?.enabled) {
        failure = { ...failure, reason: user ? 'user_disabled' : 'name_of_another_source', target: user ? userTarget(user) : { username }, source: source.id };
        break;
      }
      await this.throttle.success(username, ip);
      await this.audit.record({ type: 'login.succeeded', actor: { credential: 'password', userId: user.id, username: user.username }, target: userTarget(user), source: source.id });
      return user;
    }
    if (unavailable) throw unavailable;
    await this.audit.record(failure);
    throw new Unauthorized('invalid username or password', 'invalid_grant');
  }
}
