/**
 * Password login across the configured sources, behind the failure throttle. Every failure,
 * whatever its cause (unknown user, wrong password, disabled account), is the same 401.
 *
 * What counts toward lockout (throttle.ts) is a wrong password and nothing else: not a refusal,
 * not a correct password (even for a disabled account), not a directory that did not answer.
 */
import { userTarget } from '../audit/actors.js';
import type { AuditRecord } from '../audit/event.js';
import type { AuditTrail } from '../audit/trail.js';
import { InvalidRequest, NotFound, TemporarilyUnavailable, TooManyRequests, Unauthorized } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import type { DeviceTrust } from './devices.js';
import type { Identity, PasswordSource } from './source.js';
import type { LoginThrottle } from './throttle.js';
import type { UserService } from './users.js';

export interface PasswordAttempt {
  username: string;
  password: string;
  /** The client's address, as the HTTP layer determined it. */
  ip: string;
  /** Check only this source; default: each in configured order. */
  source?: string;
  /** The device credentials the client presented (cookie or `device_token`), if any. */
  device?: string;
}

export interface SignedIn {
  user: UserRecord;
  /** Device credentials for the client to keep: from now on it is a known device for this account. */
  device: string;
}

/** What the sources said about a username and password. */
type Verdict =
  | { kind: 'user'; user: UserRecord }
  /** The password was right, but the account cannot sign in (disabled, or another source's name). */
  | { kind: 'refused'; failure: AuditRecord }
  | { kind: 'wrong' }
  /** No source recognised the password and at least one could not be asked. */
  | { kind: 'unavailable'; error: unknown; answered: Set<string> };

const failure = () => new Unauthorized('invalid username or password', 'invalid_grant');

export class LoginService {
  constructor(
    private readonly sources: PasswordSource[],
    private readonly users: UserService,
    private readonly throttle: LoginThrottle,
    private readonly devices: DeviceTrust,
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
    return (await this.signIn({ username, password, ip, source: sourceId })).user;
  }

  /** `login`, plus the device credentials that make this client known for the account. */
  async signIn(attempt: PasswordAttempt): Promise<SignedIn> {
    const { username, password, ip } = attempt;
    if (!username || !password) throw failure();
    if (username.length > 256 || password.length > 1024) throw new InvalidRequest('username or password too long');
    const sources = attempt.source ? this.sources.filter((s) => s.id === attempt.source) : this.sources;
    if (attempt.source && sources.length === 0) throw new InvalidRequest(`unknown identity source: ${attempt.source}`);

    const knownDevice = await this.devices.recognise(attempt.device, username);
    const ticket = await this.throttle.begin({ username, ip, knownDevice }).catch(async (err: unknown) => {
      if (err instanceof TooManyRequests) await this.audit.record({ type: 'login.throttled', outcome: 'failed', reason: 'too_many_failures', target: { username }, source: attempt.source });
      throw err;
    });
    let verdict: Verdict;
    try {
      verdict = await this.check(sources, username, password);
      if (verdict.kind === 'unavailable' && (await this.answeredBy(username, verdict.answered))) verdict = { kind: 'wrong' };
    } catch (err) {
      await ticket.undecided();
      throw err;
    }
    switch (verdict.kind) {
      case 'user': {
        await ticket.succeeded();
        const { user } = verdict;
        await this.audit.record({ type: 'login.succeeded', actor: { credential: 'password', userId: user.id, username: user.username }, target: userTarget(user), source: user.source });
        return { user, device: await this.devices.remember(attempt.device, username) };
      }
      case 'refused':
        await ticket.undecided();
        await this.audit.record(verdict.failure);
        throw failure();
      case 'wrong':
        await ticket.failed();
        await this.audit.record({ type: 'login.failed', outcome: 'failed', reason: 'invalid_credentials', target: { username }, source: attempt.source });
        throw failure();
      case 'unavailable':
        await ticket.undecided();
        throw verdict.error;
    }
  }

  private async check(sources: PasswordSource[], username: string, password: string): Promise<Verdict> {
    // A source that cannot be reached does not stop the others; it matters only if no source
    // recognised the user, and then the answer is 503 rather than a misleading 401.
    let unavailable: unknown;
    const answered = new Set<string>();
    for (const source of sources) {
      let identity;
      try {
        identity = await source.authenticate(username, password);
      } catch (err) {
        if (!(err instanceof TemporarilyUnavailable)) throw err;
        unavailable = err;
        continue;
      }
      answered.add(source.id);
      if (!identity) continue;
      const user = await this.userFor(source.id, identity);
      if (user?.enabled) return { kind: 'user', user };
      const reason = user ? 'user_disabled' : 'name_of_another_source';
      return { kind: 'refused', failure: { type: 'login.failed', outcome: 'failed', reason, target: user ? userTarget(user) : { username }, source: source.id } };
    }
    return unavailable ? { kind: 'unavailable', error: unavailable, answered } : { kind: 'wrong' };
  }

  /**
   * During an outage, is the name a Tessera user whose own source answered (and said no)? Then
   * it was a wrong password, not an outage: counted and answered 401, so an outage of one
   * directory is no window for unthrottled guessing against another source's accounts.
   */
  private async answeredBy(username: string, answered: Set<string>): Promise<boolean> {
    try {
      return answered.has((await this.users.get(username)).source);
    } catch (err) {
      if (err instanceof NotFound) return false;
      throw err;
    }
  }
}
