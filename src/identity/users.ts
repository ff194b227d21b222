/**
 * Tessera's user records: built-in users managed by admins, and users from LDAP/SAML created or
 * refreshed at each login (`upsertExternal`). Disabling a user, deleting one, or changing their
 * password voids their login sessions at once; disabling or deleting also makes every token they
 * own inactive (the store checks the owner on each bearer check).
 */
import { userTarget } from '../audit/actors.js';
import type { AuditDetails, AuditType } from '../audit/event.js';
import type { AuditTrail } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import { newUserId } from '../ids.js';
import type { Role, UserRecord } from '../store/records.js';
import type { Store, UserPage } from '../store/store.js';
import { checkUserPageLimit, userCursorAfter } from '../store/user-pages.js';
import { eachUser, userBatches } from '../store/walks.js';
import { usernameKey } from '../store/usernames.js';
import { hashPassword } from './passwords.js';
import { sourceKindOf } from './source-kinds.js';
import type { Identity } from './source.js';
import { inAnyGroup } from './role-mapping.js';

/** The part of the store this uses: user records. */
export type UserStore = Pick<Store, 'createUser' | 'deleteUser' | 'findUserByName' | 'listUserPage' | 'putUser'>;

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/**
 * A search reads at most this many users per request, in store pages of SEARCH_STEP: text in a
 * display name or e-mail has no index, so a search walks the users, and one request must not
 * walk them all. A page of matches can then be short and still have a `next`.
 */
export const SEARCH_BUDGET = 1000;
const SEARCH_STEP = 250;

export interface NewUser {
  username: string;
  password?: string;
  displayName?: string;
  email?: string;
  role?: Role;
  enabled?: boolean;
}

export interface UserPatch {
  displayName?: string;
  email?: string;
  role?: Role;
  enabled?: boolean;
  password?: string;
}

/** The one event a change is recorded as: disabling and password resets are named, the rest is `user.changed`. */
function changeType(user: UserRecord, patch: UserPatch, by: 'admin' | 'revalidation'): AuditType {
  if (patch.enabled === false && user.enabled) return by === 'revalidation' ? 'user.disabled_by_revalidation' : 'user.disabled';
  if (patch.password !== undefined) return 'user.password_reset';
  return 'user.changed';
}

export function validUsername(username: unknown): username is string {
  return typeof username === 'string' && USERNAME.test(username);
}

export class UserService {
  constructor(
    private readonly store: UserStore,
    private readonly config: TesseraConfig,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
  ) {}

  private async passwordHash(password: string): Promise<string> {
    if (password.length < this.config.passwords.minLength) {
      throw new InvalidRequest(`password must be at least ${this.config.passwords.minLength} characters`);
    }
    if (password.length > 1024) throw new InvalidRequest('password is too long');
    return hashPassword(password, this.config.passwords.scryptCost);
  }

  /**
   * Creates a built-in (local) user. Names are unique ignoring case and width (`Admin` is
   * `admin`): the store refuses a variant with Conflict.
   */
  async create(input: NewUser): Promise<UserRecord> {
    if (!validUsername(input.username)) {
      throw new InvalidRequest('username: 1-128 characters, letters, digits and . _ @ + - (not starting with a symbol)');
    }
    const now = this.clock();
    const user: UserRecord = {
      id: newUserId(),
      username: input.username,
      displayName: input.displayName ?? input.username,
      email: input.email ?? '',
      role: input.role ?? 'normal',
      enabled: input.enabled ?? true,
      source: 'local',
      groups: [],
      createdAt: now,
      updatedAt: now,
      sessionsNotBefore: 0,
    };
    if (input.password !== undefined) user.passwordHash = await this.passwordHash(input.password);
    await this.audit.around({ type: 'user.created', target: userTarget(user), source: 'local', details: { role: user.role, enabled: user.enabled } }, () => this.store.createUser(user));
    return user;
  }

  async get(username: string): Promise<UserRecord> {
    const user = await this.store.findUserByName(username);
    if (!user) throw new NotFound(`user ${username} not found`);
    return user;
  }

  /**
   * One page of users in listing order (username ignoring case): `next` goes back as `cursor`.
   * With `search`, only users whose username, display name or e-mail contains it (ignoring
   * case), reading at most SEARCH_BUDGET users per call: follow `next` until it is absent.
   */
  async page(query: { limit: number; cursor?: string; search?: string }): Promise<UserPage> {
    checkUserPageLimit(query.limit);
    const needle = query.search?.trim().toLowerCase();
    if (!needle) return this.store.listUserPage({ limit: query.limit, cursor: query.cursor });
    const matches = (u: UserRecord) => [u.username, u.displayName, u.email].some((f) => f.toLowerCase().includes(needle));
    const found: UserRecord[] = [];
    let cursor = query.cursor;
    for (let read = 0; read < SEARCH_BUDGET; read += SEARCH_STEP) {
      const page = await this.store.listUserPage({ limit: SEARCH_STEP, cursor });
      for (const [i, user] of page.users.entries()) {
        if (!matches(user)) continue;
        found.push(user);
        if (found.length === query.limit) {
          const last = i === page.users.length - 1 && page.next === undefined;
          return last ? { users: found } : { users: found, next: userCursorAfter(user, usernameKey) };
        }
      }
      if (page.next === undefined) return { users: found };
      cursor = page.next;
    }
    return { users: found, next: cursor };
  }

  /** Every user, a store page at a time (jobs: re-validation, the emergency revoke). */
  each(): AsyncGenerator<UserRecord> {
    return eachUser(this.store);
  }

  /** Every user in batches of up to `size`, for work done on a batch at once. */
  batches(size: number): AsyncGenerator<UserRecord[]> {
    return userBatches(this.store, size);
  }

  /**
   * `actor`: the admin making the change. An admin cannot demote or disable themselves, so a
   * gateway is never left without the admin who was working on it.
   */
  async update(username: string, patch: UserPatch, actor?: string, by: 'admin' | 'revalidation' = 'admin'): Promise<UserRecord> {
    const user = await this.get(username);
    // By the stored name: `ADMIN` in the path is the same account as the actor `admin`.
    if (actor === user.username && (patch.role === 'normal' || patch.enabled === false)) {
      throw new InvalidRequest('admins cannot demote or disable themselves');
    }
    const type = changeType(user, patch, by);
    const now = this.clock();
    if (patch.password !== undefined) {
      if (user.source !== 'local') throw new InvalidRequest(`${username} signs in through ${user.source}; its password is not Tessera's to set`);
      user.passwordHash = await this.passwordHash(patch.password);
      user.sessionsNotBefore = now;
    }
    if (patch.enabled === false && user.enabled) user.sessionsNotBefore = now;
    if (patch.displayName !== undefined) user.displayName = patch.displayName;
    if (patch.email !== undefined) user.email = patch.email;
    if (patch.role !== undefined) user.role = patch.role;
    if (patch.enabled !== undefined) user.enabled = patch.enabled;
    user.updatedAt = now;
    const fields = Object.keys(patch).filter((k) => patch[k as keyof UserPatch] !== undefined);
    // Which kind of source re-validated the user: the event type is the same for every kind.
    const kind = type === 'user.disabled_by_revalidation' ? sourceKindOf(this.config, user.source) : undefined;
    const sourceKind: AuditDetails = kind ? { sourceKind: kind } : {};
    await this.audit.around({ type, target: userTarget(user), source: user.source, details: { fields, ...(patch.role ? { role: patch.role } : {}), ...sourceKind } }, () => this.store.putUser(user));
    return user;
  }

  async delete(username: string, by: string): Promise<void> {
    const user = await this.get(username);
    if (user.username === by) throw new InvalidRequest('admins cannot delete themselves');
    await this.audit.around({ type: 'user.deleted', target: userTarget(user), source: user.source }, () => this.store.deleteUser(user.id, by, this.clock()));
  }

  /**
   * Creates or refreshes the user an external source vouched for. A name already held by a user
   * of another source is refused: one directory must not take over another's account.
   */
  async upsertExternal(identity: Identity): Promise<UserRecord> {
    const now = this.clock();
    const existing = await this.store.findUserByName(identity.username);
    if (existing) {
      if (existing.source !== identity.source) throw new InvalidRequest(`user ${identity.username} belongs to source ${existing.source}`);
      const user: UserRecord = {
        ...existing,
        displayName: identity.displayName,
        email: identity.email,
        groups: identity.groups,
        role: identity.role ?? existing.role,
        updatedAt: now,
      };
      // A directory changing someone's role or groups changes what they may do: recorded.
      const fields = (['displayName', 'email', 'groups', 'role'] as const).filter((k) => JSON.stringify(user[k]) !== JSON.stringify(existing[k]));
      if (!fields.length) await this.store.putUser(user);
      else await this.audit.around({ type: 'user.changed', actor: { credential: 'system' }, target: userTarget(user), source: user.source, details: { fields, role: user.role } }, () => this.store.putUser(user));
      return user;
    }
    const user: UserRecord = {
      id: newUserId(),
      username: identity.username,
      displayName: identity.displayName,
      email: identity.email,
      role: identity.role ?? 'normal',
      enabled: true,
      source: identity.source,
      groups: identity.groups,
      createdAt: now,
      updatedAt: now,
      sessionsNotBefore: 0,
    };
    await this.audit.around({ type: 'user.created', target: userTarget(user), source: user.source, details: { role: user.role } }, () => this.store.createUser(user));
    return user;
  }

  /** May this user create tokens for themselves? Admins always; others by role or group (`tokens.creators`). */
  mayCreateTokens(user: UserRecord): boolean {
    const { roles, groups } = this.config.tokens.creators;
    return user.role === 'admin' || roles.includes(user.role) || inAnyGroup(user.groups, groups);
  }
}
