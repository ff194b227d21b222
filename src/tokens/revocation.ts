/**
 * Ending every credential at once: "revoke all of a user's tokens" and the emergency switch.
 * A credential here is anything the gateway issued that lets someone in: personal access tokens,
 * API login sessions (access + refresh), browser sessions of the web pages (login sessions too),
 * and what the OpenID Provider issued — grants with their access, refresh and device codes,
 * JWT access tokens, the CLI's SSO login, and the provider's own single sign-on sessions.
 *
 * Two mechanisms, because neither is enough alone:
 *   - a "not before" stamp (per user on the user record, and gateway-wide for the switch),
 *     compared on every hot path against the credential's issue time. It costs no extra round
 *     trip (the PAT and session scripts already read the user record), reaches every gateway at
 *     once, and is the only thing that can refuse a JWT access token, which is not stored;
 *   - deleting what can be enumerated (token records, the user's session index, the provider's
 *     grants and sessions by account), so lists and counts tell the truth and nothing revoked
 *     waits for its stamp to be checked.
 * The stamp is written first: from then on nothing issued earlier passes, even while the rest
 * runs, so a stolen login token cannot mint a PAT in between. Each step is idempotent, so a
 * failure part-way is safe to retry.
 */
import type { AuditTrail } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import { Forbidden } from '../errors.js';
import type { UserService } from '../identity/users.js';
import type { UserRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { CredentialsNotBefore } from './not-before.js';
import { isAdmin, type Principal } from './principal.js';

/** The part of the store this uses: everything a user holds: tokens, sessions, provider grants, the user's stamps. */
export type RevocationStore = Pick<Store, 'getUser' | 'providerRevokeByAccountId' | 'putUser' | 'revokeUserSessions' | 'revokeUserTokens'>;

/** Users ended concurrently by the emergency switch. */
const WALK_BATCH = 16;

export interface RevokedCredentials {
  /** Personal access tokens. */
  tokens: number;
  /** Login sessions (API and browser) and the OpenID Provider's single sign-on sessions. */
  sessions: number;
  /** OpenID Provider grants, each with its access, refresh and device codes. */
  grants: number;
}

export class CredentialRevocation {
  constructor(
    private readonly store: RevocationStore,
    private readonly users: UserService,
    private readonly notBefore: CredentialsNotBefore,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
  ) {}

  /** Every credential of `username`: the user themselves (unscoped), or an admin. */
  async revokeUser(caller: Principal, username: string): Promise<RevokedCredentials> {
    if (username !== caller.user.username && !isAdmin(caller)) throw new Forbidden('only admins revoke other users\' tokens');
    if (caller.scopes !== null) throw new Forbidden('revoking all tokens needs an unscoped credential');
    const owner = username === caller.user.username ? caller.user : await this.users.get(username);
    return this.audit.around(
      { type: 'token.revoked_all_of_user', target: { userId: owner.id, username: owner.username } },
      () => this.endUser(owner, caller.user.username, this.clock()),
      (counts) => ({ details: { ...counts } }),
    );
  }

  /**
   * The emergency switch: every credential of every user, and every provider token issued to a
   * client on its own account (client credentials), which only the global stamp can refuse.
   */
  async revokeEverything(caller: Principal): Promise<{ users: number } & RevokedCredentials> {
    if (!isAdmin(caller)) throw new Forbidden('only admins revoke every token');
    return this.audit.around({ type: 'token.revoked_everything' }, () => this.endEveryone(caller), (counts) => ({ details: { ...counts } }));
  }

  private async endEveryone(caller: Principal): Promise<{ users: number } & RevokedCredentials> {
    const now = this.clock();
    await this.notBefore.set(now);
    const total: RevokedCredentials = { tokens: 0, sessions: 0, grants: 0 };
    let users = 0;
    // A store page of users at a time, a few in parallel: the global stamp already holds
    // everywhere, this makes it exact. A user created during the walk is already after the stamp.
    for await (const batch of this.users.batches(WALK_BATCH)) {
      users += batch.length;
      for (const ended of await Promise.all(batch.map((user) => this.endUser(user, `${caller.user.username} (revoke-all)`, now)))) {
        total.tokens += ended.tokens;
        total.sessions += ended.sessions;
        total.grants += ended.grants;
      }
    }
    return { users, ...total };
  }

  private async endUser(user: UserRecord, by: string, now: number): Promise<RevokedCredentials> {
    // Re-read: the record in hand may be older than a concurrent change (role, password).
    const current = await this.store.getUser(user.id);
    if (current && (current.credentialsNotBefore ?? 0) < now) await this.store.putUser({ ...current, credentialsNotBefore: now });
    const tokens = await this.store.revokeUserTokens(user.id, by, now);
    const sessions = await this.store.revokeUserSessions(user.id, now);
    const provider = await this.store.providerRevokeByAccountId(user.id);
    return { tokens, sessions: sessions + provider.sessions, grants: provider.grants };
  }
}
