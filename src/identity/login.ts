/**
 * Password login across the configured sources, behind the failure throttle. Every failure,
 * whatever its cause (unknown user, wrong password, disabled account), is the same 401.
 */
import { Unauthorized, InvalidRequest } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import type { PasswordSource } from './source.js';
import type { LoginThrottle } from './throttle.js';
import type { UserService } from './users.js';

export class LoginService {
  constructor(
    private readonly sources: PasswordSource[],
    private readonly users: UserService,
    private readonly throttle: LoginThrottle,
  ) {}

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

    await this.throttle.check(username, ip);
    for (const source of sources) {
      const identity = await source.authenticate(username, password);
      if (!identity) continue;
      const user = source.id === 'local' ? await this.users.get(identity.username) : await this.users.upsertExternal(identity);
      if (!user.enabled) break;
      await this.throttle.success(username, ip);
      return user;
    }
    await this.throttle.failure(username, ip);
    throw new Unauthorized('invalid username or password', 'invalid_grant');
  }
}
