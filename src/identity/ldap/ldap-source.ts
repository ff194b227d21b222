/**
 * Sign-in against an LDAP directory (Dex's LDAP connector, as a `PasswordSource`):
 *
 *   search mode:   service account finds exactly one enabled entry for the username, then a
 *                  fresh connection binds as that entry's DN with the password;
 *   template mode: bind straight to `bindDnTemplate` with the username DN-escaped, then read
 *                  the entry (with the service account if there is one, else as the user).
 *
 * Then the groups, `requireGroup`, and the role from `roleMapping`. Every "no" (unknown user,
 * wrong password, disabled, ambiguous, not in the group) is null, the same 401 upstream; a
 * directory that cannot be reached or refuses the service account is `TemporarilyUnavailable`.
 *
 * Each source owns its `LdapRevalidator`, which pushes directory changes to existing users.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Entry } from 'ldapts';
import type { Clock } from '../../clock.js';
import { TemporarilyUnavailable } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Identity, PasswordSource, RevalidatingSource } from '../source.js';
import type { UserService } from '../users.js';
import type { LdapSourceConfig } from './config.js';
import { checkPassword, isLdapResult, ServiceConnection, type ConnectionSettings, type Search } from './connection.js';
import { LdapDirectory } from './directory.js';
import { SourceRevalidator } from '../revalidator.js';
import { silentLogger, type Logger } from '../../observability/logger.js';

export interface LdapSourceDeps {
  users: UserService;
  store: Store;
  clock: Clock;
  /** Operator-facing problems (unreachable directory, ambiguous user). Default: none logged. */
  logger?: Logger;
}

function tlsOptions(config: LdapSourceConfig): ConnectionOptions {
  const { ca, caFile, insecureSkipVerify } = config.tls;
  let pem = ca;
  if (caFile) {
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new Error(`ldap source ${config.id}: cannot read tls.caFile ${caFile}: ${(err as Error).message}`);
    }
  }
  return { ...(pem ? { ca: pem } : {}), rejectUnauthorized: !insecureSkipVerify, minVersion: 'TLSv1.2' };
}

export class LdapSource implements PasswordSource, RevalidatingSource {
  readonly id: string;
  readonly displayName: string;
  readonly revalidator: SourceRevalidator;
  readonly revalidateIntervalMs: number;
  private readonly settings: ConnectionSettings;
  private readonly service: ServiceConnection;
  private readonly directory: LdapDirectory;
  private readonly log: Logger;
  /** Whether the directory answered the last request (undefined until one was made): for metrics. */
  healthy: boolean | undefined;

  constructor(
    private readonly config: LdapSourceConfig,
    deps: LdapSourceDeps,
  ) {
    this.id = config.id;
    this.displayName = config.displayName;
    this.log = (deps.logger ?? silentLogger).child({ component: 'ldap', source: config.id });
    this.settings = {
      url: config.url,
      startTls: config.startTls,
      tls: tlsOptions(config),
      connectTimeoutMs: config.connectTimeout,
      timeoutMs: config.timeout,
    };
    if (config.tls.insecureSkipVerify) this.log.warn('tls.insecureSkipVerify is on: the directory certificate is not checked');
    const credentials = config.bindDn ? { dn: config.bindDn, password: config.bindPassword ?? '' } : undefined;
    this.service = new ServiceConnection(this.settings, credentials);
    this.directory = new LdapDirectory(config, (message) => this.log.warn(message));
    this.revalidateIntervalMs = config.revalidateInterval;
    this.revalidator = new SourceRevalidator(this, deps.users, deps.store, deps.clock, config.revalidateInterval, this.log);
  }

  async authenticate(username: string, password: string): Promise<Identity | null> {
    // An empty password would be an unauthenticated bind, which many servers call a success.
    if (!username || !password) return null;
    return this.unavailableOnFailure(() => (this.config.bindDnTemplate ? this.viaTemplate(username, password) : this.viaSearch(username, password)));
  }

  private async viaSearch(login: string, password: string): Promise<Identity | null> {
    const entry = await this.directory.findUser(this.service.search, this.config.userSearch!.usernameAttribute, login);
    if (!entry) return null;
    const username = this.directory.usernameOf(entry);
    if (!username) return null;
    const bound = await checkPassword(this.settings, entry.dn, password, async () => true, (err) => this.refused(err));
    if (!bound.ok) return null;
    return this.identityOf(this.service.search, entry, username);
  }

  private async viaTemplate(login: string, password: string): Promise<Identity | null> {
    const dn = this.directory.userDn(login);
    const bound = await checkPassword(
      this.settings,
      dn,
      password,
      // Read while the user's connection is open: without a service account it is the only way in.
      async (asUser) => {
        const search = this.config.bindDn ? this.service.search : asUser;
        const entry = await this.directory.readUser(search, dn);
        const username = entry && this.directory.usernameOf(entry);
        return entry && username ? this.identityOf(search, entry, username) : null;
      },
      (err) => this.refused(err),
    );
    return bound.ok ? bound.value : null;
  }

  private async identityOf(search: Search, entry: Entry, username: string): Promise<Identity | null> {
    const groups = await this.directory.groupsOf(search, entry, username);
    return this.directory.identity(this.id, entry, username, groups);
  }

  private refused(err: { code: number; message: string }): void {
    this.log.warn(`the directory refused a user bind with result code ${err.code} (${err.message})`);
  }

  /**
   * The user's current identity, read with the service account (no password): null when the
   * entry is gone, disabled, or out of `requireGroup`. For the revalidator.
   */
  async lookup(username: string): Promise<Identity | null> {
    return this.unavailableOnFailure(async () => {
      const search = this.service.search;
      const entry = this.config.bindDnTemplate
        ? await this.directory.readUser(search, this.directory.userDn(username))
        : await this.directory.findUser(search, this.directory.usernameAttribute, username);
      const found = entry && this.directory.usernameOf(entry);
      return entry && found ? this.identityOf(search, entry, found) : null;
    });
  }

  /** Throws `TemporarilyUnavailable` unless the service account can connect and bind. */
  async check(): Promise<void> {
    await this.unavailableOnFailure(() => this.service.check());
  }

  /**
   * Every failure below a definite answer becomes a 503: the directory is down, slow, refuses the
   * service account, or answers a search with an error (missing base DN, a referral). Those are
   * for the operator, so they are logged; the client only learns to retry.
   */
  private async unavailableOnFailure<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.healthy = true;
      return result;
    } catch (err) {
      if (err instanceof TemporarilyUnavailable) throw err;
      this.healthy = false;
      const why = isLdapResult(err) ? `LDAP result code ${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      this.log.warn(`directory unavailable: ${why.split('\n')[0]}`);
      throw new TemporarilyUnavailable('the directory is unavailable, try again later');
    }
  }

  up(): boolean | undefined {
    return this.healthy;
  }

  /** Starts background re-validation (every `revalidateInterval`). */
  start(): void {
    this.revalidator.start();
  }

  /** Stops revalidation and closes the service connection. */
  async close(): Promise<void> {
    this.revalidator.stop();
    await this.service.close();
  }
}
