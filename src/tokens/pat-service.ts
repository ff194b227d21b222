/**
 * Personal access tokens: the rules of creating, listing, describing, editing and revoking them,
 * and the bearer check on the hot path. HTTP routes, web pages and the CLI all come here, so the
 * rules exist once.
 *
 * Authorization, in one place:
 *   - a user acts on their own tokens; an admin (full-rights credential) on anyone's;
 *   - creating for yourself needs the token-creator permission; admins may create for any user;
 *   - nobody grants scopes they do not hold, and a PAT never mints a token that outlives it.
 * A token someone may not see is "not found", so ids of other users' tokens cannot be probed.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AuditTrail } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { Forbidden, InvalidRequest, InvalidToken, NotFound } from '../errors.js';
import { newTokenId, userIdOfTokenId } from '../ids.js';
import type { UserService } from '../identity/users.js';
import type { Expiration, TokenRecord, UserRecord } from '../store/records.js';
import type { Store, TokenPage, TokenUse } from '../store/store.js';
import { checkPageLimit } from '../store/token-cursor.js';
import { allTokensPage, type AllTokensPage } from './all-tokens.js';
import { hashSecret, newSecret, parseSecret, type ParsedSecret } from './format.js';
import type { CredentialsNotBefore } from './not-before.js';
import { isAdmin, type Principal } from './principal.js';
import { assertGrantable, joinScopes, parseScopes } from './scopes.js';
import { ScopeVocabulary } from './scope-vocabulary.js';
import { renewalOf } from './rotation.js';

/** The part of the store this uses: personal access tokens and their owners. */
export type PatStore = Pick<Store, 'findTokenIdByHash' | 'getToken' | 'getUser' | 'insertToken' | 'listTokenPage' | 'listUserPage' | 'revokeToken' | 'shortenTokenExpiry' | 'revokeTokenByHash' | 'updateToken' | 'useToken'>;

export type TokenStatus = 'active' | 'expired' | 'revoked';

export interface CreateTokenInput {
  name?: unknown;
  description?: unknown;
  user?: unknown;
  expires_in?: unknown;
  expires_at?: unknown;
  expiration?: unknown;
  sliding_window?: unknown;
  max_lifetime?: unknown;
  scopes?: unknown;
}

export interface CreatedToken {
  secret: string;
  record: TokenRecord;
  owner: UserRecord;
  /** Ids revoked to stay within the per-user limit. */
  evicted: string[];
  /** No lifetime was asked for and the default would have outlived the calling PAT: cut to its expiry. */
  clampedToCaller?: boolean;
}

export function tokenStatus(token: TokenRecord, now: number): TokenStatus {
  if (token.revokedAt !== undefined) return 'revoked';
  return token.expiresAt <= now ? 'expired' : 'active';
}

function text(value: unknown, field: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new InvalidRequest(`${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new InvalidRequest(`${field} must be a string`);
  const trimmed = value.trim();
  if (required && !trimmed) throw new InvalidRequest(`${field} must not be empty`);
  if (trimmed.length > max) throw new InvalidRequest(`${field} is longer than ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(trimmed.replace(/[\n\t]/g, ''))) throw new InvalidRequest(`${field} contains control characters`);
  return trimmed;
}

function durationField(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined || ms <= 0) throw new InvalidRequest(`${field} must be a positive number of seconds or a duration like 30d`);
  return ms;
}

export class PatService {
  constructor(
    private readonly store: PatStore,
    private readonly users: UserService,
    private readonly config: TesseraConfig['tokens'],
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly notBefore?: CredentialsNotBefore,
    /** The declared scopes new tokens are held to (default: any scope, no vocabulary). */
    private readonly vocabulary: ScopeVocabulary = new ScopeVocabulary({ scopes: [], tokens: { allowUndeclaredScopes: true } as TesseraConfig['tokens'] }),
  ) {}

  /** The expiry fields of a new token, from the request and the configured bounds. */
  private expiry(input: CreateTokenInput, now: number, ceiling: number | undefined) {
    const expiration: Expiration = input.expiration === undefined ? 'hard' : (input.expiration as Expiration);
    if (expiration !== 'hard' && expiration !== 'sliding') throw new InvalidRequest('expiration must be "hard" or "sliding"');
    const cap = (at: number, field: string) => {
      if (at - now > this.config.maxTtl) throw new InvalidRequest(`${field} exceeds the maximum token lifetime of ${formatDuration(this.config.maxTtl)}`);
      if (ceiling !== undefined && at > ceiling) throw new InvalidRequest(`${field} would outlive the token making this request`);
      return at;
    };

    if (expiration === 'sliding') {
      if (input.expires_in !== undefined || input.expires_at !== undefined) {
        throw new InvalidRequest('sliding tokens take sliding_window and max_lifetime, not expires_in/expires_at');
      }
      // Defaults the caller did not choose are cut to the calling PAT's expiry; only an explicit
      // request beyond it is refused (below).
      const askedLifetime = durationField(input.max_lifetime, 'max_lifetime');
      const defaultLifetime = Math.min(this.config.defaultMaxLifetime, this.config.maxTtl);
      const lifetime = askedLifetime ?? (ceiling !== undefined ? Math.min(defaultLifetime, ceiling - now) : defaultLifetime);
      const window = durationField(input.sliding_window, 'sliding_window') ?? (askedLifetime === undefined ? Math.min(this.config.defaultSlidingWindow, lifetime) : this.config.defaultSlidingWindow);
      if (window > lifetime) throw new InvalidRequest('sliding_window must not be longer than max_lifetime');
      const maxLifetimeAt = cap(now + lifetime, 'max_lifetime');
      return { expiration, expiresAt: now + window, slidingWindow: window, maxLifetimeAt };
    }

    if (input.sliding_window !== undefined || input.max_lifetime !== undefined) {
      throw new InvalidRequest('sliding_window and max_lifetime apply only to expiration "sliding"');
    }
    if (input.expires_in !== undefined && input.expires_at !== undefined) throw new InvalidRequest('give expires_in or expires_at, not both');
    let expiresAt: number;
    if (input.expires_at !== undefined) {
      const at = typeof input.expires_at === 'string' ? Date.parse(input.expires_at) : NaN;
      if (!Number.isFinite(at)) throw new InvalidRequest('expires_at must be an ISO 8601 date-time');
      if (at <= now) throw new InvalidRequest('expires_at is in the past');
      expiresAt = at;
    } else {
      const asked = durationField(input.expires_in, 'expires_in');
      expiresAt = asked !== undefined ? now + asked : Math.min(now + this.config.defaultTtl, ceiling ?? Infinity);
    }
    return { expiration, expiresAt: cap(expiresAt, input.expires_at !== undefined ? 'expires_at' : 'expires_in') };
  }

  /**
   * `link`: set by rotation, the replaced token (recorded on the new one) and the family it
   * takes the place of (its parent), instead of the caller's token.
   */
  async create(caller: Principal, input: CreateTokenInput, link?: { rotatedFrom: string; parentId?: string }): Promise<CreatedToken> {
    const name = text(input.name, 'name', 100, true)!;
    const description = text(input.description, 'description', 1000, false) ?? '';
    const username = input.user === undefined ? caller.user.username : input.user;
    if (typeof username !== 'string') throw new InvalidRequest('user must be a username');

    let owner: UserRecord;
    if (username === caller.user.username) {
      owner = caller.user;
      if (!this.users.mayCreateTokens(owner)) throw new Forbidden('you do not have permission to create tokens');
    } else {
      if (!isAdmin(caller)) throw new Forbidden('only admins create tokens for other users');
      owner = await this.users.get(username);
    }
    if (!owner.enabled) throw new InvalidRequest(`user ${owner.username} is disabled`);

    const scopes = parseScopes(input.scopes);
    // A rotation reissues scopes the token already had, declared or not.
    if (!link) this.vocabulary.assertDeclared(scopes);
    assertGrantable(caller.scopes, scopes);
    const now = this.clock();
    const secret = newSecret('pat', owner.id);
    const record: TokenRecord = {
      id: newTokenId(owner.id),
      userId: owner.id,
      name,
      description,
      scope: joinScopes(scopes),
      createdAt: now,
      createdBy: caller.user.username,
      hash: hashSecret(secret),
      // Made with a PAT: revoking that PAT revokes this one too (see revokeDescendants).
      ...(caller.via === 'pat' && caller.tokenId && !link ? { parentId: caller.tokenId } : {}),
      ...(link ? { rotatedFrom: link.rotatedFrom, ...(link.parentId ? { parentId: link.parentId } : {}) } : {}),
      ...this.expiry(input, now, caller.expiryCeiling),
    };
    // The creation event is written ahead for the whole atomic insert, evictions included; each
    // evicted token then gets its own event so its history can be found by its id.
    const target = { userId: owner.id, username: owner.username, tokenId: record.id };
    const { evicted } = await this.audit.around(
      { type: 'token.created', target, details: { name, scope: record.scope, expiration: record.expiration, expiresAt: new Date(record.expiresAt).toISOString() } },
      // A rotation's replaced token is revoked right after: it must not cost another token its place.
      () => this.store.insertToken(record, { max: this.config.maxPerUser + (link ? 1 : 0), onLimit: this.config.onLimit }, now),
      (result) => ({ details: { evicted: result.evicted } }),
    );
    const askedNone = input.expires_in === undefined && input.expires_at === undefined && input.max_lifetime === undefined;
    const clampedToCaller = askedNone && caller.expiryCeiling !== undefined && (record.maxLifetimeAt ?? record.expiresAt) === caller.expiryCeiling;
    for (const id of evicted) await this.audit.record({ type: 'token.evicted', target: { ...target, tokenId: id }, details: { evictedFor: record.id, limit: this.config.maxPerUser } });
    await this.assertCallerNotRevoked(caller, record);
    return { secret, record, owner, evicted, ...(clampedToCaller ? { clampedToCaller } : {}) };
  }

  /**
   * A revoke-all that stamped the caller's user while this request was on its way (after its
   * bearer check, before the insert) must not leave a token behind: the stamp is read again
   * after the insert, and a token made with a credential it voids is revoked at once.
   */
  private async assertCallerNotRevoked(caller: Principal, record: TokenRecord): Promise<void> {
    if (caller.issuedAt === undefined || !this.notBefore) return;
    const current = await this.store.getUser(caller.user.id);
    if (current && this.notBefore.allows(current, caller.issuedAt)) return;
    await this.store.revokeToken(record.userId, record.id, 'system:revoke-all', this.clock());
    throw new InvalidToken();
  }

  /** The owner of a token the caller may see, or NotFound. */
  private async reachable(caller: Principal, id: string): Promise<{ token: TokenRecord; owner: UserRecord }> {
    const userId = userIdOfTokenId(id);
    if (!userId || (userId !== caller.user.id && !isAdmin(caller))) throw new NotFound(`token ${id} not found`);
    const [token, owner] = await Promise.all([this.store.getToken(userId, id), this.store.getUser(userId)]);
    if (!token || !owner) throw new NotFound(`token ${id} not found`);
    return { token, owner };
  }

  /**
   * A token the caller may change or revoke. A scoped PAT manages only itself and the tokens it
   * made (directly or through them): a leaked narrow token must not be able to revoke or rename
   * its owner's other tokens.
   */
  private async manageable(caller: Principal, id: string): Promise<{ token: TokenRecord; owner: UserRecord }> {
    const found = await this.reachable(caller, id);
    if (caller.scopes === null) return found;
    for (let token: TokenRecord | null = found.token, hops = 0; token && hops < 50; hops++) {
      if (token.id === caller.tokenId) return found;
      token = token.parentId ? await this.store.getToken(found.owner.id, token.parentId) : null;
    }
    throw new Forbidden('a scoped token manages only itself and the tokens it created');
  }

  /**
   * Revokes every active token created, directly or indirectly, with one of `parentIds`. Reads
   * the active tokens by page and only the ancestors of those that have a parent (a chain may
   * pass through an expired token), never the records kept for audit: a revoke costs O(active).
   */
  private async revokeDescendants(userId: string, parentIds: string[], by: string, now: number): Promise<void> {
    const active: TokenRecord[] = [];
    const known = new Map<string, TokenRecord | null>();
    let cursor: string | undefined;
    do {
      const page = await this.store.listTokenPage(userId, { limit: 1000, cursor, include: { revoked: false, expired: false } }, now);
      for (const t of page.tokens) known.set(t.id, t);
      active.push(...page.tokens);
      cursor = page.next;
    } while (cursor);
    const verdict = new Map<string, boolean>(parentIds.map((id) => [id, true]));
    const descends = async (t: TokenRecord, hops = 0): Promise<boolean> => {
      const cached = verdict.get(t.id);
      if (cached !== undefined) return cached;
      let answer = false;
      if (t.parentId && hops < 50) {
        if (!known.has(t.parentId)) known.set(t.parentId, await this.store.getToken(userId, t.parentId));
        const parent = known.get(t.parentId);
        answer = parent ? await descends(parent, hops + 1) : false;
      }
      verdict.set(t.id, answer);
      return answer;
    };
    for (const t of active) {
      if (t.parentId && !parentIds.includes(t.id) && (await descends(t))) {
        const event = { type: 'token.revoked' as const, target: { userId, tokenId: t.id }, details: { cascadeFrom: t.parentId } };
        await this.audit.around(event, () => this.store.revokeToken(userId, t.id, by, now));
      }
    }
  }

  async get(caller: Principal, id: string) {
    return this.reachable(caller, id);
  }

  /**
   * One page of every user's tokens (admins): users in listing order, each user's tokens as
   * `listPage` orders them. Bounded per call (all-tokens.ts); follow `next` until it is absent.
   */
  async listAllPage(
    caller: Principal,
    options: { include?: { revoked?: boolean; expired?: boolean }; limit: number; cursor?: string },
  ): Promise<AllTokensPage> {
    if (!isAdmin(caller)) throw new Forbidden('only admins list every user\'s tokens');
    checkPageLimit(options.limit);
    const include = { revoked: options.include?.revoked === true, expired: options.include?.expired === true };
    return allTokensPage(this.store, { limit: options.limit, cursor: options.cursor, include }, this.clock());
  }

  /**
   * One page of one user's tokens (the caller's own, or `user`'s for admins): active ones oldest
   * first, then the retained ones `include` asks for. Costs O(the page) in the store, however
   * many records are kept for audit. `next` goes back as `cursor` for the following page.
   */
  async listPage(
    caller: Principal,
    options: { user?: string; include?: { revoked?: boolean; expired?: boolean }; limit: number; cursor?: string },
  ): Promise<TokenPage & { owner: UserRecord }> {
    let owner = caller.user;
    if (options.user !== undefined && options.user !== caller.user.username) {
      if (!isAdmin(caller)) throw new Forbidden('only admins list other users\' tokens');
      owner = await this.users.get(options.user);
    }
    const include = { revoked: options.include?.revoked === true, expired: options.include?.expired === true };
    const page = await this.store.listTokenPage(owner.id, { limit: options.limit, cursor: options.cursor, include }, this.clock());
    return { ...page, owner };
  }

  async update(caller: Principal, id: string, patch: { name?: unknown; description?: unknown }) {
    const name = text(patch.name, 'name', 100, false);
    const description = text(patch.description, 'description', 1000, false);
    if (patch.name !== undefined && !name) throw new InvalidRequest('name must not be empty');
    if (name === undefined && description === undefined) throw new InvalidRequest('nothing to change: give name and/or description');
    const { owner } = await this.manageable(caller, id);
    const fields = [...(name !== undefined ? ['name'] : []), ...(description !== undefined ? ['description'] : [])];
    const token = await this.audit.around({ type: 'token.edited', target: { userId: owner.id, username: owner.username, tokenId: id }, details: { fields } }, () =>
      this.store.updateToken(owner.id, id, { name, description }),
    );
    if (!token) throw new NotFound(`token ${id} not found`);
    return { token, owner };
  }

  async revoke(caller: Principal, id: string) {
    const { owner } = await this.manageable(caller, id);
    const now = this.clock();
    const token = await this.audit.around({ type: 'token.revoked', target: { userId: owner.id, username: owner.username, tokenId: id } }, () =>
      this.store.revokeToken(owner.id, id, caller.user.username, now),
    );
    if (!token) throw new NotFound(`token ${id} not found`);
    await this.revokeDescendants(owner.id, [id], caller.user.username, now);
    return { token, owner };
  }

  /**
   * A new secret for an active token the caller may manage (src/tokens/rotation.ts says which
   * fields carry over). The old one is revoked once the new one is stored or, with a `grace`
   * (ms, at most `tokens.rotationGraceMax`), keeps working until now + grace and then expires:
   * both secrets work meanwhile, so whatever uses the token can switch over without an outage.
   * Tokens made with the old one stay: the rotated token takes its place in the family.
   */
  async rotate(caller: Principal, id: string, grace?: unknown): Promise<CreatedToken & { replaced: TokenRecord; replacedEndsAt: number }> {
    const graceMs = this.rotationGrace(grace);
    const { token: old, owner } = await this.manageable(caller, id);
    const now = this.clock();
    if (tokenStatus(old, now) !== 'active') throw new InvalidRequest(`token ${id} is ${tokenStatus(old, now)}: only an active token can be rotated`);
    const input = { ...renewalOf(old, now, this.config.maxTtl, caller.expiryCeiling), user: owner.username };
    const created = await this.create(caller, input, { rotatedFrom: old.id, parentId: old.parentId });
    const target = { userId: owner.id, username: owner.username, tokenId: old.id };
    const endOld = async (): Promise<number> => {
      const at = this.clock();
      if (!graceMs) return (await this.store.revokeToken(owner.id, old.id, caller.user.username, at))?.revokedAt ?? at;
      // Never later than the old token would have ended anyway.
      return (await this.store.shortenTokenExpiry(owner.id, old.id, at + graceMs, at))?.expiresAt ?? at;
    };
    const replacedEndsAt = await this.audit.around(
      { type: 'token.rotated', target, details: { rotatedTo: created.record.id, graceSeconds: Math.round((graceMs ?? 0) / 1000) } },
      endOld,
      (endsAt) => ({ details: { oldTokenEndsAt: new Date(endsAt).toISOString() } }),
    );
    return { ...created, replaced: old, replacedEndsAt };
  }

  /** A rotation's grace period in ms (undefined: none), within `tokens.rotationGraceMax`. */
  private rotationGrace(grace: unknown): number | undefined {
    if (grace === undefined || grace === null) return undefined;
    const ms = typeof grace === 'number' || typeof grace === 'string' ? parseDuration(grace) : undefined;
    if (ms === undefined) throw new InvalidRequest('grace must be a number of seconds or a duration like 1h');
    if (ms > this.config.rotationGraceMax) throw new InvalidRequest(`grace may be at most ${formatDuration(this.config.rotationGraceMax)} (tokens.rotationGraceMax)`);
    return ms || undefined;
  }

  /** RFC 7009: revoke by secret. Unknown or malformed secrets are not an error. */
  async revokeBySecret(secret: string, by: string): Promise<void> {
    const parsed = parseSecret(secret);
    if (parsed.kind !== 'pat') return;
    const now = this.clock();
    // By id, found first through the hash: never a walk over the records kept for audit.
    const revokeIt = async () => {
      const id = await this.store.findTokenIdByHash(parsed.userId, parsed.hash);
      if (!id || !(await this.store.revokeTokenByHash(parsed.userId, parsed.hash, by, now))) return null;
      return this.store.getToken(parsed.userId, id);
    };
    const revoked = await this.audit.around({ type: 'token.revoked', target: { userId: parsed.userId } }, revokeIt, (token) => ({
      target: token ? { tokenId: token.id } : {},
      details: { found: token !== null },
    }));
    if (revoked) await this.revokeDescendants(parsed.userId, [revoked.id], by, now);
  }

  /**
   * The hot path: one store round trip, SHA-256 of the presented secret, no other hashing.
   * The store finds the record by hash; the constant-time compare below is defence in depth
   * against a store that matched loosely. `parsed`: the caller's `parseSecret(secret)`, when it
   * already has it (the secret is hashed once per check).
   */
  async verify(secret: string, ip: string, parsed: ParsedSecret = parseSecret(secret)): Promise<TokenUse | null> {
    if (parsed.kind !== 'pat') return null;
    const use = await this.store.useToken(parsed.userId, parsed.hash, this.clock(), ip);
    if (!use || !timingSafeEqual(Buffer.from(use.token.hash, 'hex'), Buffer.from(parsed.hash, 'hex'))) return null;
    // The store checked the user's own stamp; the emergency switch's is held in memory.
    if (this.notBefore && !this.notBefore.allows(use.user, use.token.createdAt)) return null;
    return use;
  }
}
