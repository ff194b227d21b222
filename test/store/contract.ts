/**
 * The Store contract: every implementation (MemoryStore, RedisStore) runs this same suite.
 * MemoryStore is the reference; a rule here is a rule for every store.
 *
 * Time is injected: `now` starts at the real clock and only moves forward, because RedisStore
 * sets key expiries (PXAT) from these times and must never be handed instants in the past.
 * Stores under test must be built with `auditRetentionMs: AUDIT_RETENTION_MS` and
 * `lastUsedPrecisionMs: LAST_USED_PRECISION_MS`.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Conflict, NotFound } from '../../src/errors.js';
import type { SessionRecord, Store, TokenLimit, TokenRecord, UserRecord } from '../../src/store/store.js';
import { auditContract } from './audit-contract.js';
import { revocationContract } from './revocation-contract.js';
import { tokenBacklogContract } from './token-backlog-contract.js';
import { tokenExpiryContract } from './token-expiry-contract.js';
import { tokenPageContract } from './token-page-contract.js';
import { userPageContract } from './user-page-contract.js';
import { shortLivedContract } from './short-lived-contract.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const AUDIT_RETENTION_MS = DAY;
export const LAST_USED_PRECISION_MS = MINUTE;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62]; // 248 = 4 * 62: no bias
    }
  }
  return out;
}

/** A random SHA-256-looking hex digest. */
export const hex64 = (): string => randomBytes(32).toString('hex');

/** A valid user record with a fresh id and username, for store tests. */
export function sampleUser(now: number, over: Partial<UserRecord> = {}): UserRecord {
  const id = base62(12);
  return {
    id,
    username: `u-${base62(10)}`,
    displayName: 'Ada Lovelace',
    email: `${id}@example.org`,
    role: 'normal',
    enabled: true,
    source: 'local',
    groups: [],
    createdAt: now,
    updatedAt: now,
    sessionsNotBefore: 0,
    ...over,
  };
}

/** Every user, following `listUserPage` to the end (small pages, so the walk crosses pages). */
export async function allUsers(store: Store): Promise<UserRecord[]> {
  const users: UserRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listUserPage({ limit: 2, cursor });
    users.push(...page.users);
    cursor = page.next;
  } while (cursor !== undefined);
  return users;
}

export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export function storeContract(name: string, makeStore: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    /** The injected clock. */
    let now: number;
    const advance = (ms: number): number => (now += ms);

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
    });

    afterEach(async () => {
      await cleanup();
    });

    const newUser = (over: Partial<UserRecord> = {}): UserRecord => sampleUser(now, over);

    const createUser = async (over: Partial<UserRecord> = {}): Promise<UserRecord> => {
      const user = newUser(over);
      await store.createUser(user);
      return user;
    };

    const newToken = (userId: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
      id: base62(16),
      userId,
      name: 'ci token',
      description: '',
      scope: 'tokens:read',
      expiration: 'hard',
      createdAt: now,
      expiresAt: now + 30 * DAY,
      createdBy: 'ada',
      hash: hex64(),
      ...over,
    });

    const NO_LIMIT: TokenLimit = { max: 1000, onLimit: 'refuse' };

    const insert = async (userId: string, over: Partial<TokenRecord> = {}, limit: TokenLimit = NO_LIMIT): Promise<TokenRecord> => {
      const token = newToken(userId, over);
      await store.insertToken(token, limit, now);
      return token;
    };

    const isActive = (t: TokenRecord): boolean => t.revokedAt === undefined && t.expiresAt > now;

    // ---- users --------------------------------------------------------------------------------
    describe('users', () => {
      it('creates a user and finds it by id and by username', async () => {
        const user = await createUser({ groups: ['admins', 'ops'], passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA' });
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await store.findUserByName(user.username)).toEqual(user);
      });

      it('answers null for unknown ids and usernames', async () => {
        await createUser();
        expect(await store.getUser(base62(12))).toBeNull();
        expect(await store.findUserByName('nobody')).toBeNull();
      });

      it('round-trips every field, including empty arrays, false and non-ASCII text', async () => {
        const user = await createUser({
          displayName: 'Zoë Ünïcødé ☃ 😀 "quoted" / back\\slash',
          role: 'admin',
          enabled: false,
          source: 'ldap-corp',
          groups: [],
          sessionsNotBefore: now - 5,
        });
        const stored = await store.getUser(user.id);
        expect(stored).toEqual(user);
        expect(stored!.groups).toEqual([]);
        expect(stored!.enabled).toBe(false);
      });

      it('refuses a second user with the same username (Conflict) and keeps the first', async () => {
        const first = await createUser();
        const second = newUser({ username: first.username });
        await expect(store.createUser(second)).rejects.toBeInstanceOf(Conflict);
        expect(await store.findUserByName(first.username)).toEqual(first);
        expect(await store.getUser(second.id)).toBeNull();
        expect((await allUsers(store)).map((u) => u.id)).toEqual([first.id]);
      });

      it('usernames are one name whatever their case or width: a variant is refused, any spelling finds the user', async () => {
        const first = await createUser({ username: `Mixed-${base62(8)}` });
        const lower = first.username.toLowerCase();
        for (const variant of [lower, first.username.toUpperCase(), ` ${lower} `]) {
          expect(await store.findUserByName(variant)).toEqual(first);
          await expect(store.createUser(newUser({ username: variant.trim() }))).rejects.toBeInstanceOf(Conflict);
        }
        // NFKC: full-width letters are the same name as their ASCII forms.
        const wide = [...first.username].map((c) => (/[A-Za-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
        expect(await store.findUserByName(wide)).toEqual(first);
        await expect(store.createUser(newUser({ username: wide }))).rejects.toBeInstanceOf(Conflict);
        expect((await allUsers(store)).map((u) => u.id)).toEqual([first.id]);
        // The name is free again once its holder is deleted, in any spelling.
        await store.deleteUser(first.id, 'admin', now);
        expect(await store.findUserByName(lower)).toBeNull();
        const next = await createUser({ username: lower });
        expect(await store.findUserByName(first.username)).toEqual(next);
      });

      it('refuses creating the same user twice and keeps it intact', async () => {
        const user = await createUser();
        await expect(store.createUser(user)).rejects.toBeInstanceOf(Conflict);
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await store.findUserByName(user.username)).toEqual(user);
      });

      it('hands out copies: mutating a returned record does not change the store', async () => {
        const user = await createUser({ groups: ['a'] });
        const got = (await store.getUser(user.id))!;
        got.displayName = 'changed';
        got.groups.push('b');
        expect(await store.getUser(user.id)).toEqual(user);
      });

      it('putUser replaces the record', async () => {
        const user = await createUser();
        const changed: UserRecord = { ...user, displayName: 'Grace', enabled: false, groups: ['x'], updatedAt: now + 1, sessionsNotBefore: now };
        await store.putUser(changed);
        expect(await store.getUser(user.id)).toEqual(changed);
        expect(await store.findUserByName(user.username)).toEqual(changed);
      });

      it('putUser throws NotFound for an unknown user or a changed username', async () => {
        const user = await createUser();
        await expect(store.putUser(newUser())).rejects.toBeInstanceOf(NotFound);
        await expect(store.putUser({ ...user, username: 'renamed' })).rejects.toBeInstanceOf(NotFound);
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await store.findUserByName('renamed')).toBeNull();
      });

      it('lists users sorted by username, page by page', async () => {
        const c = await createUser({ username: 'carol' });
        const a = await createUser({ username: 'alice' });
        const b = await createUser({ username: 'bob' });
        expect(await allUsers(store)).toEqual([a, b, c]);
      });

      it('deleteUser removes the user, frees the username and revokes their tokens', async () => {
        const user = await createUser();
        const other = await createUser();
        const active = await insert(user.id);
        const alreadyRevoked = await insert(user.id);
        await store.revokeToken(user.id, alreadyRevoked.id, 'ada', now);
        const otherToken = await insert(other.id);
        advance(MINUTE);

        await store.deleteUser(user.id, 'admin:root', now);

        expect(await store.getUser(user.id)).toBeNull();
        expect(await store.findUserByName(user.username)).toBeNull();
        expect((await allUsers(store)).map((u) => u.id)).toEqual([other.id]);
        const revoked = await store.getToken(user.id, active.id);
        expect(revoked).toMatchObject({ id: active.id, revokedAt: now, revokedBy: 'admin:root' });
        expect((await store.getToken(user.id, alreadyRevoked.id))!.revokedBy).toBe('ada');
        expect(await store.useToken(user.id, active.hash, now, '10.0.0.1')).toBeNull();
        // Other users are untouched.
        expect((await store.useToken(other.id, otherToken.hash, now, '10.0.0.1'))?.token.id).toBe(otherToken.id);
        // The username can be taken again, by a new user.
        const again = await createUser({ username: user.username });
        expect(await store.findUserByName(user.username)).toEqual(again);
      });

      it('deleteUser throws NotFound for an unknown user', async () => {
        await expect(store.deleteUser(base62(12), 'admin', now)).rejects.toBeInstanceOf(NotFound);
      });
    });

    // ---- tokens -------------------------------------------------------------------------------
    describe('tokens', () => {
      it('inserts a token and reads it back unchanged', async () => {
        const user = await createUser();
        const token = newToken(user.id, {
          name: 'déploiement ☃ 😀',
          description: 'a/b "c" \\ d',
          scope: '',
          expiration: 'sliding',
          slidingWindow: 7 * DAY,
          maxLifetimeAt: now + 90 * DAY,
          expiresAt: now + 7 * DAY,
        });
        expect(await store.insertToken(token, NO_LIMIT, now)).toEqual({ evicted: [] });
        expect(await store.getToken(user.id, token.id)).toEqual(token);
      });

      it('refuses a hash that is not a SHA-256 in lowercase hex (RangeError), stores nothing, and finds nothing for one', async () => {
        const user = await createUser();
        for (const hash of ['not-a-hash', hex64().toUpperCase(), hex64().slice(1)]) {
          await expect(store.insertToken(newToken(user.id, { hash }), NO_LIMIT, now)).rejects.toThrow(RangeError);
        }
        expect((await store.listTokenPage(user.id, { limit: 10, include: { revoked: true, expired: true } }, now)).tokens).toEqual([]);
        expect(await store.useToken(user.id, 'not-a-hash', now, '10.0.0.1')).toBeNull();
        expect(await store.findTokenIdByHash(user.id, 'not-a-hash')).toBeNull();
        expect(await store.revokeTokenByHash(user.id, 'not-a-hash', 'ada', now)).toBe(false);
      });

      it('getToken answers null for an unknown id or another user', async () => {
        const user = await createUser();
        const other = await createUser();
        const token = await insert(user.id);
        expect(await store.getToken(user.id, base62(16))).toBeNull();
        expect(await store.getToken(other.id, token.id)).toBeNull();
      });

      it('hands out copies of token records', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        const got = (await store.getToken(user.id, token.id))!;
        got.name = 'mutated';
        expect(await store.getToken(user.id, token.id)).toEqual(token);
      });

      it('under the limit nothing is evicted', async () => {
        const user = await createUser();
        const limit: TokenLimit = { max: 3, onLimit: 'evict' };
        for (let i = 0; i < 3; i++) {
          expect(await store.insertToken(newToken(user.id, { createdAt: now + i }), limit, now)).toEqual({ evicted: [] });
        }
        expect((await store.listTokens(user.id, now)).filter(isActive)).toHaveLength(3);
      });

      it('at the limit with evict: the oldest active token is revoked by system:token-limit', async () => {
        const user = await createUser();
        const limit: TokenLimit = { max: 3, onLimit: 'evict' };
        const [oldest, middle, newest] = [
          await insert(user.id, { createdAt: now - 3 * MINUTE }, limit),
          await insert(user.id, { createdAt: now - 2 * MINUTE }, limit),
          await insert(user.id, { createdAt: now - MINUTE }, limit),
        ];
        advance(SECOND);
        const fresh = newToken(user.id);
        expect(await store.insertToken(fresh, limit, now)).toEqual({ evicted: [oldest!.id] });

        const evicted = await store.getToken(user.id, oldest!.id);
        expect(evicted).toMatchObject({ revokedAt: now, revokedBy: 'system:token-limit' });
        expect(await store.useToken(user.id, oldest!.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.revokeTokenByHash(user.id, oldest!.hash, 'ada', now)).toBe(false);
        for (const t of [middle!, newest!, fresh]) {
          expect((await store.useToken(user.id, t.hash, now, '10.0.0.1'))?.token.id).toBe(t.id);
        }
        const listed = await store.listTokens(user.id, now);
        expect(listed.map((t) => t.id)).toEqual([oldest!.id, middle!.id, newest!.id, fresh.id]);
        expect(listed.filter(isActive).map((t) => t.id)).toEqual([middle!.id, newest!.id, fresh.id]);
      });

      it('evicts as many of the oldest as needed when the limit is lower than the active count', async () => {
        const user = await createUser();
        const tokens: TokenRecord[] = [];
        for (let i = 0; i < 4; i++) tokens.push(await insert(user.id, { createdAt: now - (10 - i) * MINUTE }));
        const fresh = newToken(user.id);
        const { evicted } = await store.insertToken(fresh, { max: 2, onLimit: 'evict' }, now);
        expect(evicted).toEqual(tokens.slice(0, 3).map((t) => t.id));
        const active = (await store.listTokens(user.id, now)).filter(isActive).map((t) => t.id);
        expect(active).toEqual([tokens[3]!.id, fresh.id]);
      });

      it('revoked and expired tokens do not count toward the limit', async () => {
        const user = await createUser();
        const limit: TokenLimit = { max: 2, onLimit: 'refuse' };
        const revoked = await insert(user.id, { createdAt: now - 3 * HOUR }, limit);
        await store.revokeToken(user.id, revoked.id, 'ada', now);
        await insert(user.id, { createdAt: now - 2 * HOUR, expiresAt: now + HOUR }, limit);
        const active = await insert(user.id, { createdAt: now - HOUR }, limit);
        advance(2 * HOUR); // the second one is now expired
        const fresh = newToken(user.id);
        expect(await store.insertToken(fresh, limit, now)).toEqual({ evicted: [] });
        expect((await store.listTokens(user.id, now)).filter(isActive).map((t) => t.id)).toEqual([active.id, fresh.id]);
        // ...and an evict does not pick them either.
        const third = newToken(user.id, { createdAt: now + 1 });
        expect(await store.insertToken(third, { max: 2, onLimit: 'evict' }, now)).toEqual({ evicted: [active.id] });
      });

      it('at the limit with refuse: Conflict, and nothing is written', async () => {
        const user = await createUser();
        const limit: TokenLimit = { max: 2, onLimit: 'refuse' };
        const a = await insert(user.id, { createdAt: now - 2 * MINUTE }, limit);
        const b = await insert(user.id, { createdAt: now - MINUTE }, limit);
        const before = await store.listTokens(user.id, now);
        const refused = newToken(user.id);
        await expect(store.insertToken(refused, limit, now)).rejects.toBeInstanceOf(Conflict);
        expect(await store.getToken(user.id, refused.id)).toBeNull();
        expect(await store.useToken(user.id, refused.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.listTokens(user.id, now)).toEqual(before);
        expect(before.map((t) => t.id)).toEqual([a.id, b.id]);
        expect(before.every(isActive)).toBe(true);
      });

      it('the limit holds under 20 concurrent inserts (evict): exactly 5 active afterwards', async () => {
        const user = await createUser();
        const limit: TokenLimit = { max: 5, onLimit: 'evict' };
        const tokens = Array.from({ length: 20 }, (_, i) => newToken(user.id, { createdAt: now + i }));
        const results = await Promise.all(tokens.map((t) => store.insertToken(t, limit, now)));
        const evicted = results.flatMap((r) => r.evicted);
        expect(evicted).toHaveLength(15);
        expect(new Set(evicted).size).toBe(15);
        const listed = await store.listTokens(user.id, now);
        expect(listed).toHaveLength(20);
        const active = listed.filter(isActive);
        expect(active).toHaveLength(5);
        for (const t of listed.filter((t) => !isActive(t))) {
          expect(evicted).toContain(t.id);
          expect(t.revokedBy).toBe('system:token-limit');
        }
        let usable = 0;
        for (const t of tokens) if (await store.useToken(user.id, t.hash, now, '10.0.0.1')) usable++;
        expect(usable).toBe(5);
      });

      it('the limit holds under 20 concurrent inserts (refuse): exactly 5 stored', async () => {
        const user = await createUser();
        const limit: TokenLimit = { max: 5, onLimit: 'refuse' };
        const tokens = Array.from({ length: 20 }, (_, i) => newToken(user.id, { createdAt: now + i }));
        const results = await Promise.allSettled(tokens.map((t) => store.insertToken(t, limit, now)));
        const ok = results.filter((r) => r.status === 'fulfilled');
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(ok).toHaveLength(5);
        expect(refused).toHaveLength(15);
        for (const r of refused) expect(r.reason).toBeInstanceOf(Conflict);
        const listed = await store.listTokens(user.id, now);
        expect(listed).toHaveLength(5);
        expect(listed.every(isActive)).toBe(true);
      });

      it('lists tokens oldest first, whatever the insertion order', async () => {
        const user = await createUser();
        const b = await insert(user.id, { createdAt: now - 2 * HOUR });
        const c = await insert(user.id, { createdAt: now - HOUR });
        const a = await insert(user.id, { createdAt: now - 3 * HOUR });
        expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([a.id, b.id, c.id]);
        expect(await store.listTokens(base62(12), now)).toEqual([]);
      });

      it('lists only the owner’s tokens', async () => {
        const user = await createUser();
        const other = await createUser();
        const mine = await insert(user.id);
        await insert(other.id);
        expect(await store.listTokens(user.id, now)).toEqual([mine]);
      });

      it('keeps revoked and expired records for the audit retention, measured from revokedAt ?? expiresAt', async () => {
        const user = await createUser();
        const t0 = now;
        const revoked = await insert(user.id, { createdAt: t0 - 3 });
        const expiring = await insert(user.id, { createdAt: t0 - 2, expiresAt: t0 + 2 * HOUR });
        const lasting = await insert(user.id, { createdAt: t0 - 1, expiresAt: t0 + 10 * DAY });
        advance(HOUR);
        await store.revokeToken(user.id, revoked.id, 'ada', now); // revokedAt = t0 + 1h

        // Just before the revoked record's horizon: everything is still listed.
        now = t0 + HOUR + AUDIT_RETENTION_MS - 1;
        expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([revoked.id, expiring.id, lasting.id]);

        // At it: the revoked record is gone, for good.
        now = t0 + HOUR + AUDIT_RETENTION_MS;
        expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([expiring.id, lasting.id]);
        expect(await store.getToken(user.id, revoked.id)).toBeNull();

        // The expired one is kept until expiresAt + retention.
        now = t0 + 2 * HOUR + AUDIT_RETENTION_MS - 1;
        expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([expiring.id, lasting.id]);
        now = t0 + 2 * HOUR + AUDIT_RETENTION_MS;
        expect((await store.listTokens(user.id, now)).map((t) => t.id)).toEqual([lasting.id]);
        expect(await store.getToken(user.id, expiring.id)).toBeNull();
        expect((await store.getToken(user.id, lasting.id))?.id).toBe(lasting.id);
      });

      it('updateToken changes name and description only', async () => {
        const user = await createUser();
        const token = await insert(user.id, { name: 'old', description: 'old description' });
        const renamed = await store.updateToken(user.id, token.id, { name: 'new ☃' });
        expect(renamed).toEqual({ ...token, name: 'new ☃' });
        const described = await store.updateToken(user.id, token.id, { description: 'new description' });
        expect(described).toEqual({ ...token, name: 'new ☃', description: 'new description' });
        expect(await store.getToken(user.id, token.id)).toEqual(described);
        // The secret still works after an update.
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token.name).toBe('new ☃');
      });

      it('updateToken answers null for an unknown token and does not revive a revoked one', async () => {
        const user = await createUser();
        expect(await store.updateToken(user.id, base62(16), { name: 'x' })).toBeNull();
        const token = await insert(user.id);
        await store.revokeToken(user.id, token.id, 'ada', now);
        const updated = await store.updateToken(user.id, token.id, { name: 'renamed', description: 'd' });
        expect(updated).toMatchObject({ name: 'renamed', description: 'd', revokedAt: now, revokedBy: 'ada' });
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
      });

      it('revokeToken marks the record and the secret stops working', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        advance(MINUTE);
        const revoked = await store.revokeToken(user.id, token.id, 'ada', now);
        expect(revoked).toEqual({ ...token, revokedAt: now, revokedBy: 'ada' });
        expect(await store.getToken(user.id, token.id)).toEqual(revoked);
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
      });

      it('revokeToken is idempotent: a revoked record comes back unchanged', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        const first = await store.revokeToken(user.id, token.id, 'ada', now);
        const revokedAt = now;
        advance(HOUR);
        const second = await store.revokeToken(user.id, token.id, 'admin:root', now);
        expect(second).toEqual(first);
        expect(second).toMatchObject({ revokedAt, revokedBy: 'ada' });
        expect(await store.revokeToken(user.id, base62(16), 'ada', now)).toBeNull();
      });

      it('findTokenIdByHash finds a usable token by secret hash, and nothing once it is revoked', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        expect(await store.findTokenIdByHash(user.id, token.hash)).toBe(token.id);
        expect(await store.findTokenIdByHash(base62(12), token.hash)).toBeNull();
        expect(await store.findTokenIdByHash(user.id, hex64())).toBeNull();
        await store.revokeToken(user.id, token.id, 'ada', now);
        expect(await store.findTokenIdByHash(user.id, token.hash)).toBeNull();
      });

      it('revokeTokenByHash revokes by secret hash and reports whether it found one', async () => {
        const user = await createUser();
        const other = await createUser();
        const token = await insert(user.id);
        const kept = await insert(user.id);
        expect(await store.revokeTokenByHash(other.id, token.hash, 'x', now)).toBe(false);
        expect(await store.revokeTokenByHash(user.id, hex64(), 'x', now)).toBe(false);
        advance(MINUTE);
        expect(await store.revokeTokenByHash(user.id, token.hash, 'client:cli', now)).toBe(true);
        expect(await store.getToken(user.id, token.id)).toMatchObject({ revokedAt: now, revokedBy: 'client:cli' });
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.revokeTokenByHash(user.id, token.hash, 'client:cli', now)).toBe(false);
        expect((await store.getToken(user.id, kept.id))?.revokedAt).toBeUndefined();
      });

      it('revokeUserTokens revokes every active token and returns the count', async () => {
        const user = await createUser();
        const other = await createUser();
        const active = [await insert(user.id), await insert(user.id), await insert(user.id)];
        const earlier = await insert(user.id);
        await store.revokeToken(user.id, earlier.id, 'ada', now);
        const expired = await insert(user.id, { expiresAt: now + HOUR });
        const othersToken = await insert(other.id);
        advance(2 * HOUR);

        expect(await store.revokeUserTokens(user.id, 'admin:root', now)).toBe(3);
        for (const t of active) {
          expect(await store.getToken(user.id, t.id)).toMatchObject({ revokedAt: now, revokedBy: 'admin:root' });
          expect(await store.useToken(user.id, t.hash, now, '10.0.0.1')).toBeNull();
        }
        expect((await store.getToken(user.id, earlier.id))?.revokedBy).toBe('ada');
        expect((await store.getToken(user.id, expired.id))?.revokedAt).toBeUndefined();
        expect((await store.useToken(other.id, othersToken.hash, now, '10.0.0.1'))?.token.id).toBe(othersToken.id);
        expect(await store.revokeUserTokens(user.id, 'admin:root', now)).toBe(0);
        expect(await store.revokeUserTokens(base62(12), 'admin:root', now)).toBe(0);
      });
    });

    // ---- useToken -----------------------------------------------------------------------------
    describe('useToken', () => {
      it('answers null for an unknown hash or the wrong user', async () => {
        const user = await createUser();
        const other = await createUser();
        const token = await insert(user.id);
        expect(await store.useToken(user.id, hex64(), now, '10.0.0.1')).toBeNull();
        expect(await store.useToken(other.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.useToken(base62(12), token.hash, now, '10.0.0.1')).toBeNull();
      });

      it('returns the record and its owner, recording last use', async () => {
        const user = await createUser({ groups: [] });
        const token = await insert(user.id);
        advance(MINUTE);
        const use = await store.useToken(user.id, token.hash, now, '2001:db8::1');
        expect(use).toEqual({ token: { ...token, lastUsedAt: now, lastUsedIp: '2001:db8::1' }, user });
        expect(await store.getToken(user.id, token.id)).toEqual(use!.token);
        advance(MINUTE);
        const again = await store.useToken(user.id, token.hash, now, '192.0.2.7');
        expect(again?.token).toMatchObject({ lastUsedAt: now, lastUsedIp: '192.0.2.7', expiresAt: token.expiresAt });
      });

      it('answers null for an expired token (at expiresAt and after) and changes nothing', async () => {
        const user = await createUser();
        const token = await insert(user.id, { expiresAt: now + HOUR });
        now = token.expiresAt - 1;
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).not.toBeNull();
        const before = await store.getToken(user.id, token.id);
        now = token.expiresAt;
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.2')).toBeNull();
        advance(HOUR);
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.2')).toBeNull();
        expect(await store.getToken(user.id, token.id)).toEqual(before);
      });

      it('answers null for a revoked token', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        await store.revokeToken(user.id, token.id, 'ada', now);
        advance(SECOND);
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect((await store.getToken(user.id, token.id))?.lastUsedAt).toBeUndefined();
      });

      it('answers null while the owner is disabled, and works again once re-enabled', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        await store.putUser({ ...user, enabled: false });
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect((await store.getToken(user.id, token.id))?.lastUsedAt).toBeUndefined();
        await store.putUser({ ...user, enabled: true });
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token.id).toBe(token.id);
      });

      it('refuses a disabled owner or a user-wide revoke also when last use is already recorded, and writes nothing', async () => {
        // The Redis check decides those in Node when it writes nothing (USE_TOKEN): both ways are held here.
        const user = await createUser();
        const token = await insert(user.id);
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).not.toBeNull();
        const recorded = await store.getToken(user.id, token.id);
        advance(SECOND);
        // Within the precision, from the recorded IP: answered without a write.
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token).toEqual(recorded);
        await store.putUser({ ...user, enabled: false });
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.2')).toBeNull();
        expect(await store.getToken(user.id, token.id)).toEqual(recorded);
        await store.putUser({ ...user, credentialsNotBefore: token.createdAt + 1 });
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.2')).toBeNull();
        expect(await store.getToken(user.id, token.id)).toEqual(recorded);
        await store.putUser({ ...user, credentialsNotBefore: token.createdAt });
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token).toEqual(recorded);
      });

      it('answers null when the owner was deleted or never existed', async () => {
        const user = await createUser();
        const token = await insert(user.id);
        const orphanId = base62(12);
        const orphan = await insert(orphanId);
        expect(await store.useToken(orphanId, orphan.hash, now, '10.0.0.1')).toBeNull();
        await store.deleteUser(user.id, 'admin', now);
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
      });

      it('slides a sliding token to now + window, never past maxLifetimeAt, then it expires', async () => {
        const user = await createUser();
        const t0 = now;
        const token = await insert(user.id, {
          expiration: 'sliding',
          slidingWindow: HOUR,
          maxLifetimeAt: t0 + 3 * HOUR,
          expiresAt: t0 + HOUR,
        });

        now = t0 + 30 * MINUTE;
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token.expiresAt).toBe(t0 + 90 * MINUTE);
        // Still usable past its original expiry.
        now = t0 + 80 * MINUTE;
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token.expiresAt).toBe(t0 + 140 * MINUTE);
        expect((await store.getToken(user.id, token.id))?.expiresAt).toBe(t0 + 140 * MINUTE);
        // Capped at maxLifetimeAt.
        now = t0 + 130 * MINUTE;
        const capped = await store.useToken(user.id, token.hash, now, '10.0.0.1');
        expect(capped?.token.expiresAt).toBe(t0 + 3 * HOUR);
        // Dead at the cap, whatever use came before.
        now = t0 + 3 * HOUR;
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
        expect(await store.getToken(user.id, token.id)).toEqual(capped!.token);
      });

      it('a sliding expiry never moves backwards', async () => {
        const user = await createUser();
        const token = await insert(user.id, {
          expiration: 'sliding',
          slidingWindow: HOUR,
          maxLifetimeAt: now + 10 * DAY,
          expiresAt: now + 2 * DAY, // further out than now + window
        });
        advance(MINUTE);
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token.expiresAt).toBe(token.expiresAt);
      });

      it('records last use to the precision, but always a new IP', async () => {
        const user = await createUser();
        const token = await insert(user.id, { expiration: 'sliding', slidingWindow: HOUR, maxLifetimeAt: now + DAY, expiresAt: now + HOUR });
        const first = await store.useToken(user.id, token.hash, now, '10.0.0.1');
        expect(first?.token).toMatchObject({ lastUsedAt: now, lastUsedIp: '10.0.0.1', expiresAt: now + HOUR });
        const recorded = await store.getToken(user.id, token.id);
        // Same IP within the precision: no write, the stored record is answered unchanged.
        advance(LAST_USED_PRECISION_MS - 1);
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token).toEqual(recorded);
        expect(await store.getToken(user.id, token.id)).toEqual(recorded);
        // A new IP is recorded at once, whatever the precision.
        const moved = await store.useToken(user.id, token.hash, now, '10.0.0.9');
        expect(moved?.token).toMatchObject({ lastUsedAt: now, lastUsedIp: '10.0.0.9', expiresAt: now + HOUR });
        expect(await store.getToken(user.id, token.id)).toEqual(moved!.token);
        // Back to the first IP: that is a change too.
        advance(1);
        expect((await store.useToken(user.id, token.hash, now, '10.0.0.1'))?.token.lastUsedIp).toBe('10.0.0.1');
        // The same IP once the precision has passed: recorded, and the sliding expiry moves.
        advance(LAST_USED_PRECISION_MS);
        const later = await store.useToken(user.id, token.hash, now, '10.0.0.1');
        expect(later?.token).toMatchObject({ lastUsedAt: now, expiresAt: now + HOUR });
        expect(await store.getToken(user.id, token.id)).toEqual(later!.token);
      });

      it('does not extend a hard token', async () => {
        const user = await createUser();
        const token = await insert(user.id, { expiration: 'hard', expiresAt: now + HOUR });
        advance(59 * MINUTE);
        const use = await store.useToken(user.id, token.hash, now, '10.0.0.1');
        expect(use?.token.expiresAt).toBe(token.expiresAt);
        expect(use?.token.lastUsedAt).toBe(now);
        advance(MINUTE);
        expect(await store.useToken(user.id, token.hash, now, '10.0.0.1')).toBeNull();
      });
    });

    // ---- sessions -----------------------------------------------------------------------------
    describe('sessions', () => {
      interface Login {
        user: UserRecord;
        session: SessionRecord;
        access: string;
        accessExpiresAt: number;
      }

      const login = async (over: Partial<SessionRecord> = {}, user?: UserRecord): Promise<Login> => {
        const owner = user ?? (await createUser());
        const session: SessionRecord = {
          id: base62(16),
          userId: owner.id,
          createdAt: now,
          expiresAt: now + DAY,
          refreshHash: hex64(),
          ip: '198.51.100.4',
          ...over,
        };
        const access = hex64();
        const accessExpiresAt = now + 15 * MINUTE;
        await store.createSession(session, access, accessExpiresAt);
        return { user: owner, session, access, accessExpiresAt };
      };

      const next = () => ({ refreshHash: hex64(), accessHash: hex64(), accessExpiresAt: now + 15 * MINUTE });

      it('createSession then useAccessToken returns the session, its owner and the access expiry', async () => {
        const { user, session, access, accessExpiresAt } = await login();
        advance(MINUTE);
        expect(await store.useAccessToken(user.id, access, now)).toEqual({ session, user, accessExpiresAt });
      });

      it('useAccessToken answers null for an unknown hash or the wrong user', async () => {
        const { user, access } = await login();
        const other = await createUser();
        expect(await store.useAccessToken(user.id, hex64(), now)).toBeNull();
        expect(await store.useAccessToken(other.id, access, now)).toBeNull();
      });

      it('an expired access token is refused while the session lives on', async () => {
        const { user, session, access, accessExpiresAt } = await login();
        now = accessExpiresAt - 1;
        expect(await store.useAccessToken(user.id, access, now)).not.toBeNull();
        now = accessExpiresAt;
        expect(await store.useAccessToken(user.id, access, now)).toBeNull();
        const n = next();
        const rotated = await store.rotateRefreshToken(user.id, session.refreshHash, n, now);
        expect(rotated.outcome).toBe('ok');
        expect((await store.useAccessToken(user.id, n.accessHash, now))?.accessExpiresAt).toBe(n.accessExpiresAt);
      });

      it('an expired session is dead: access refused, refresh invalid', async () => {
        const { user, session, access } = await login({ expiresAt: now + 10 * MINUTE });
        now = session.expiresAt;
        expect(await store.useAccessToken(user.id, access, now)).toBeNull();
        expect(await store.rotateRefreshToken(user.id, session.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
      });

      it('a revoked session is dead; revokeSession is idempotent and keeps the record', async () => {
        const { user, session, access } = await login();
        advance(MINUTE);
        const revokedAt = now;
        await store.revokeSession(user.id, session.id, now);
        expect(await store.useAccessToken(user.id, access, now)).toBeNull();
        expect(await store.rotateRefreshToken(user.id, session.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
        advance(MINUTE);
        await store.revokeSession(user.id, session.id, now);
        expect(await store.findSessionByRefresh(user.id, session.refreshHash)).toEqual({ ...session, revokedAt });
        await expect(store.revokeSession(user.id, base62(16), now)).resolves.toBeUndefined();
      });

      it('sessions created before user.sessionsNotBefore are void', async () => {
        const { user, session, access } = await login();
        await store.putUser({ ...user, sessionsNotBefore: session.createdAt });
        expect(await store.useAccessToken(user.id, access, now)).not.toBeNull(); // not before: equal is fine
        await store.putUser({ ...user, sessionsNotBefore: session.createdAt + 1 });
        expect(await store.useAccessToken(user.id, access, now)).toBeNull();
        expect(await store.rotateRefreshToken(user.id, session.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
        // A later login is fine.
        advance(MINUTE);
        const later = await login({}, (await store.getUser(user.id))!);
        expect((await store.useAccessToken(user.id, later.access, now))?.session.id).toBe(later.session.id);
      });

      it('a disabled user’s sessions are refused', async () => {
        const { user, session, access } = await login();
        await store.putUser({ ...user, enabled: false });
        expect(await store.useAccessToken(user.id, access, now)).toBeNull();
        expect(await store.rotateRefreshToken(user.id, session.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
      });

      it('a deleted user’s sessions are refused', async () => {
        const { user, session, access } = await login();
        await store.deleteUser(user.id, 'admin', now);
        expect(await store.useAccessToken(user.id, access, now)).toBeNull();
        expect(await store.rotateRefreshToken(user.id, session.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
      });

      it('rotateRefreshToken moves the session to the new refresh token and issues a new access token', async () => {
        const { user, session } = await login();
        advance(10 * MINUTE);
        const n = next();
        const rotated = await store.rotateRefreshToken(user.id, session.refreshHash, n, now);
        expect(rotated).toEqual({ outcome: 'ok', session: { ...session, refreshHash: n.refreshHash, lastRefreshAt: now } });
        expect(await store.useAccessToken(user.id, n.accessHash, now)).toEqual({
          session: { ...session, refreshHash: n.refreshHash, lastRefreshAt: now },
          user,
          accessExpiresAt: n.accessExpiresAt,
        });
        // And again from the new one.
        const n2 = next();
        expect((await store.rotateRefreshToken(user.id, n.refreshHash, n2, now)).outcome).toBe('ok');
      });

      it('a reused refresh token revokes the whole session', async () => {
        const { user, session } = await login();
        const n = next();
        expect((await store.rotateRefreshToken(user.id, session.refreshHash, n, now)).outcome).toBe('ok');
        const rotatedAt = now;
        advance(MINUTE);
        const replay = next();
        expect(await store.rotateRefreshToken(user.id, session.refreshHash, replay, now)).toEqual({ outcome: 'reused' });
        const reusedAt = now;
        // The replay's tokens were never issued, and the legitimate new ones are dead too.
        expect(await store.useAccessToken(user.id, replay.accessHash, now)).toBeNull();
        expect(await store.useAccessToken(user.id, n.accessHash, now)).toBeNull();
        expect(await store.rotateRefreshToken(user.id, n.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
        expect(await store.findSessionByRefresh(user.id, n.refreshHash)).toEqual({
          ...session,
          refreshHash: n.refreshHash,
          lastRefreshAt: rotatedAt,
          revokedAt: reusedAt,
        });
      });

      it('an unknown refresh token (or another user’s) is invalid and changes nothing', async () => {
        const { user, session, access } = await login();
        const other = await createUser();
        expect(await store.rotateRefreshToken(user.id, hex64(), next(), now)).toEqual({ outcome: 'invalid' });
        expect(await store.rotateRefreshToken(other.id, session.refreshHash, next(), now)).toEqual({ outcome: 'invalid' });
        expect(await store.useAccessToken(user.id, access, now)).not.toBeNull();
        expect(await store.findSessionByRefresh(user.id, session.refreshHash)).toEqual(session);
      });

      it('findSessionByRefresh finds the session from any of its refresh tokens', async () => {
        const { user, session } = await login();
        const n = next();
        await store.rotateRefreshToken(user.id, session.refreshHash, n, now);
        const current = { ...session, refreshHash: n.refreshHash, lastRefreshAt: now };
        expect(await store.findSessionByRefresh(user.id, session.refreshHash)).toEqual(current);
        expect(await store.findSessionByRefresh(user.id, n.refreshHash)).toEqual(current);
        expect(await store.findSessionByRefresh(user.id, hex64())).toBeNull();
        expect(await store.findSessionByRefresh(base62(12), n.refreshHash)).toBeNull();
      });

      it('sessions are independent of each other', async () => {
        const first = await login();
        const second = await login({}, first.user);
        await store.revokeSession(first.user.id, first.session.id, now);
        expect(await store.useAccessToken(first.user.id, first.access, now)).toBeNull();
        expect((await store.useAccessToken(first.user.id, second.access, now))?.session.id).toBe(second.session.id);
      });
    });

    // ---- counters -----------------------------------------------------------------------------
    describe('counters', () => {
      it('counts hits within the window, which starts at the first hit', async () => {
        const key = `login:${base62(8)}`;
        const t0 = now;
        expect(await store.hitCounter(key, MINUTE, now)).toEqual({ count: 1, ttlMs: MINUTE });
        now = t0 + 10 * SECOND;
        expect(await store.hitCounter(key, MINUTE, now)).toEqual({ count: 2, ttlMs: 50 * SECOND });
        now = t0 + MINUTE - 1;
        expect(await store.hitCounter(key, MINUTE, now)).toEqual({ count: 3, ttlMs: 1 });
        expect(await store.getCounter(key, now)).toEqual({ count: 3, ttlMs: 1 });
      });

      it('restarts once the window is over', async () => {
        const key = `login:${base62(8)}`;
        const t0 = now;
        await store.hitCounter(key, MINUTE, now);
        await store.hitCounter(key, MINUTE, now);
        now = t0 + MINUTE;
        expect(await store.getCounter(key, now)).toEqual({ count: 0, ttlMs: 0 });
        expect(await store.hitCounter(key, MINUTE, now)).toEqual({ count: 1, ttlMs: MINUTE });
        advance(5 * SECOND);
        expect(await store.getCounter(key, now)).toEqual({ count: 1, ttlMs: 55 * SECOND });
      });

      it('getCounter of an unknown key is zero; counters are independent', async () => {
        const a = `login:${base62(8)}`;
        const b = `login:${base62(8)}`;
        expect(await store.getCounter(a, now)).toEqual({ count: 0, ttlMs: 0 });
        await store.hitCounter(a, MINUTE, now);
        await store.hitCounter(a, MINUTE, now);
        expect(await store.hitCounter(b, HOUR, now)).toEqual({ count: 1, ttlMs: HOUR });
        expect(await store.getCounter(a, now)).toEqual({ count: 2, ttlMs: MINUTE });
      });

      it('deleteCounter resets it', async () => {
        const key = `login:${base62(8)}`;
        await store.hitCounter(key, MINUTE, now);
        await store.hitCounter(key, MINUTE, now);
        await store.deleteCounter(key);
        expect(await store.getCounter(key, now)).toEqual({ count: 0, ttlMs: 0 });
        advance(SECOND);
        expect(await store.hitCounter(key, MINUTE, now)).toEqual({ count: 1, ttlMs: MINUTE });
        await expect(store.deleteCounter(`login:${base62(8)}`)).resolves.toBeUndefined();
      });

      it('takes back with a negative step, never below zero, and never creates a counter', async () => {
        const key = `login:${base62(8)}`;
        expect(await store.hitCounter(key, MINUTE, now, -1)).toEqual({ count: 0, ttlMs: 0 });
        expect((await store.getCounter(key, now)).count).toBe(0);
        await store.hitCounter(key, MINUTE, now);
        await store.hitCounter(key, MINUTE, now);
        expect((await store.hitCounter(key, MINUTE, now, -1)).count).toBe(1);
        expect((await store.hitCounter(key, MINUTE, now, -5)).count).toBe(0);
      });

      it('counts every one of many concurrent hits', async () => {
        const key = `login:${base62(8)}`;
        const results = await Promise.all(Array.from({ length: 25 }, () => store.hitCounter(key, MINUTE, now)));
        expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        expect((await store.getCounter(key, now)).count).toBe(25);
      });
    });

    describe('provider records (oidc-provider adapter)', () => {
      it('upserts, finds, consumes and destroys, keeping arrays and nested objects intact', async () => {
        const id = base62(20);
        const payload = { jti: id, kind: 'AuthorizationCode', scope: 'openid', resources: [], claims: { a: [1, 2] }, grantId: base62(10) };
        await store.providerUpsert('AuthorizationCode', id, payload, 60);
        expect(await store.providerFind('AuthorizationCode', id)).toEqual(payload);
        expect(await store.providerFind('AccessToken', id)).toBeNull();
        expect(await store.providerConsume('AuthorizationCode', id, 1_700_000_000)).toBe(true);
        expect(await store.providerFind('AuthorizationCode', id)).toEqual({ ...payload, consumed: 1_700_000_000 });
        expect(await store.providerConsume('AuthorizationCode', id, 1_700_000_001)).toBe(false);
        expect((await store.providerFind('AuthorizationCode', id))?.consumed).toBe(1_700_000_000);
        await store.providerDestroy('AuthorizationCode', id);
        expect(await store.providerFind('AuthorizationCode', id)).toBeNull();
        expect(await store.providerConsume('AuthorizationCode', id, 1)).toBe(false);
        expect(await store.providerFind('AuthorizationCode', id)).toBeNull();
      });

      it('lets exactly one of many concurrent consumers win', async () => {
        const id = base62(20);
        await store.providerUpsert('RefreshToken', id, { grantId: base62(10) }, 60);
        const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => store.providerConsume('RefreshToken', id, 1_700_000_000 + i)));
        expect(wins.filter(Boolean)).toHaveLength(1);
      });

      it('finds device codes by user code and sessions by uid', async () => {
        const userCode = base62(8);
        const uid = base62(16);
        await store.providerUpsert('DeviceCode', 'dc1' + uid, { userCode, clientId: 'cli' }, 600);
        await store.providerUpsert('Session', 's1' + uid, { uid, accountId: 'x' }, 600);
        expect(await store.providerFindBy('DeviceCode', 'userCode', userCode)).toEqual({ userCode, clientId: 'cli' });
        expect(await store.providerFindBy('Session', 'uid', uid)).toEqual({ uid, accountId: 'x' });
        expect(await store.providerFindBy('DeviceCode', 'userCode', 'nope')).toBeNull();
      });

      it('revokes every record of a grant and nothing else', async () => {
        const grantId = base62(12);
        const other = base62(12);
        await store.providerUpsert('AccessToken', `at-${grantId}`, { grantId }, 3600);
        await store.providerUpsert('RefreshToken', `rt-${grantId}`, { grantId }, 86400);
        await store.providerUpsert('AccessToken', `at-${other}`, { grantId: other }, 3600);
        await store.providerRevokeByGrantId(grantId);
        expect(await store.providerFind('AccessToken', `at-${grantId}`)).toBeNull();
        expect(await store.providerFind('RefreshToken', `rt-${grantId}`)).toBeNull();
        expect(await store.providerFind('AccessToken', `at-${other}`)).toEqual({ grantId: other });
      });

      it('expires records after their TTL', async () => {
        const id = base62(12);
        await store.providerUpsert('Interaction', id, { uid: id }, 1);
        expect(await store.providerFind('Interaction', id)).not.toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect(await store.providerFind('Interaction', id)).toBeNull();
      });
    });

    describe('settings', () => {
      it('initSetting: the first writer wins, also under concurrency', async () => {
        const name = `keys-${base62(8)}`;
        expect(await store.getSetting(name)).toBeNull();
        const results = await Promise.all(['a', 'b', 'c', 'd'].map((v) => store.initSetting(name, v)));
        expect(new Set(results).size).toBe(1);
        expect(await store.getSetting(name)).toBe(results[0]);
        await store.setSetting(name, 'rotated');
        expect(await store.initSetting(name, 'late')).toBe('rotated');
      });

      it('compareAndSetSetting: writes only over the expected value; concurrent updaters lose nothing', async () => {
        const name = `keys-${base62(8)}`;
        expect(await store.compareAndSetSetting(name, 'something', 'x')).toBe(false);
        expect(await store.getSetting(name)).toBeNull();
        expect(await store.compareAndSetSetting(name, null, '[]')).toBe(true);
        expect(await store.compareAndSetSetting(name, null, '["late"]')).toBe(false);
        expect(await store.getSetting(name)).toBe('[]');
        // 12 writers each append their own entry with read / compare-and-set / retry.
        const append = async (entry: string) => {
          for (;;) {
            const current = await store.getSetting(name);
            const next = JSON.stringify([...(JSON.parse(current!) as string[]), entry]);
            if (await store.compareAndSetSetting(name, current, next)) return;
          }
        };
        const entries = Array.from({ length: 12 }, (_, i) => `entry-${i}`);
        await Promise.all(entries.map(append));
        expect((JSON.parse((await store.getSetting(name))!) as string[]).sort()).toEqual([...entries].sort());
      });

      it('watchSettings hears every compare-and-set, and stops hearing after unsubscribing', async () => {
        const name = `keys-${base62(8)}`;
        const heard: string[] = [];
        const unsubscribe = await store.watchSettings((changed) => heard.push(changed));
        expect(await store.compareAndSetSetting(name, null, 'v1')).toBe(true);
        expect(await store.compareAndSetSetting(name, 'stale', 'v2')).toBe(false);
        await expect.poll(() => heard.filter((n) => n === name).length, { timeout: 10_000 }).toBe(1);
        await unsubscribe();
        expect(await store.compareAndSetSetting(name, 'v1', 'v2')).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(heard.filter((n) => n === name)).toHaveLength(1);
      });
    });

    describe('lifecycle', () => {
      it('ping resolves while the store is reachable', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    revocationContract(makeStore);
    tokenExpiryContract(makeStore);
    tokenPageContract(makeStore);
    tokenBacklogContract(makeStore);
    userPageContract(makeStore);
    shortLivedContract(makeStore);
  });
  auditContract(name, makeStore);
}
