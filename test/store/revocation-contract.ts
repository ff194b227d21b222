/**
 * The part of the Store contract that ends credentials in bulk: "revoke all of a user's tokens"
 * and the emergency switch. Run by `storeContract`, so it holds on every store it covers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord, Store, TokenRecord, UserRecord } from '../../src/store/store.js';
import { DAY, MINUTE, base62, hex64, sampleUser, type StoreFactory } from './contract.js';

export function revocationContract(makeStore: StoreFactory): void {
  describe('ending every credential of a user', () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
    });
    afterEach(() => cleanup());

    const user = async (): Promise<UserRecord> => {
      const u = sampleUser(now);
      await store.createUser(u);
      return u;
    };
    const token = async (owner: UserRecord, over: Partial<TokenRecord> = {}): Promise<TokenRecord> => {
      const t: TokenRecord = { id: base62(16), userId: owner.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'x', hash: hex64(), ...over };
      await store.insertToken(t, { max: 100, onLimit: 'refuse' }, now);
      return t;
    };
    const session = async (owner: UserRecord, over: Partial<SessionRecord> = {}) => {
      const s: SessionRecord = { id: base62(16), userId: owner.id, createdAt: now, expiresAt: now + DAY, refreshHash: hex64(), ip: '192.0.2.1', ...over };
      const access = hex64();
      await store.createSession(s, access, now + 5 * MINUTE);
      return { s, access };
    };

    it('credentialsNotBefore voids PATs and login sessions issued before it, not later ones', async () => {
      const owner = await user();
      const old = await token(owner);
      const login = await session(owner);
      now += MINUTE;
      await store.putUser({ ...owner, credentialsNotBefore: now });
      expect(await store.useToken(owner.id, old.hash, now, '192.0.2.1')).toBeNull();
      expect(await store.useAccessToken(owner.id, login.access, now)).toBeNull();
      const next = { refreshHash: hex64(), accessHash: hex64(), accessExpiresAt: now + MINUTE };
      expect(await store.rotateRefreshToken(owner.id, login.s.refreshHash, next, now)).toEqual({ outcome: 'invalid' });
      const fresh = await token(owner, { createdAt: now });
      const later = await session(owner, { createdAt: now });
      expect(await store.useToken(owner.id, fresh.hash, now, '192.0.2.1')).not.toBeNull();
      expect(await store.useAccessToken(owner.id, later.access, now)).not.toBeNull();
    });

    it('listUserSessions lists the running logins of one user, oldest first, with what they record', async () => {
      const owner = await user();
      const other = await user();
      const first = await session(owner, { kind: 'api', userAgent: 'curl/8.5.0' });
      now += MINUTE;
      const second = await session(owner, { kind: 'browser', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', ip: '2001:db8::7' });
      const gone = await session(owner);
      const ended = await session(owner, { expiresAt: now + MINUTE });
      await session(other);
      await store.revokeSession(owner.id, gone.s.id, now);
      now += 2 * MINUTE;
      const next = { refreshHash: hex64(), accessHash: hex64(), accessExpiresAt: now + MINUTE };
      expect((await store.rotateRefreshToken(owner.id, first.s.refreshHash, next, now)).outcome).toBe('ok');
      const listed = await store.listUserSessions(owner.id, now);
      expect(listed).toEqual([{ ...first.s, refreshHash: next.refreshHash, lastRefreshAt: now }, second.s]);
      expect(ended.s.expiresAt).toBeLessThan(now);
      expect(await store.listUserSessions(base62(12), now)).toEqual([]);
      await store.revokeUserSessions(owner.id, now);
      expect(await store.listUserSessions(owner.id, now)).toEqual([]);
    });

    it('revokeUserSessions revokes each running login of the user, counts them, and is idempotent', async () => {
      const owner = await user();
      const other = await user();
      const a = await session(owner);
      const b = await session(owner);
      const ended = await session(owner, { expiresAt: now + MINUTE });
      const theirs = await session(other);
      now += 2 * MINUTE;
      expect(await store.revokeUserSessions(owner.id, now)).toBe(2);
      expect(await store.useAccessToken(owner.id, a.access, now)).toBeNull();
      expect(await store.useAccessToken(owner.id, b.access, now)).toBeNull();
      expect(await store.findSessionByRefresh(owner.id, a.s.refreshHash)).toMatchObject({ revokedAt: now });
      expect(ended.s.expiresAt).toBeLessThan(now);
      expect(await store.useAccessToken(other.id, theirs.access, now)).not.toBeNull();
      expect(await store.revokeUserSessions(owner.id, now)).toBe(0);
      expect(await store.revokeUserSessions(base62(12), now)).toBe(0);
    });

    it('providerRevokeByAccountId ends every grant (with its tokens) and provider session of the account only', async () => {
      const account = base62(12);
      const grants = [base62(16), base62(16)];
      for (const grantId of grants) {
        await store.providerUpsert('Grant', grantId, { jti: grantId, accountId: account, clientId: 'c' }, 3600);
        await store.providerUpsert('AccessToken', `at-${grantId}`, { grantId, accountId: account }, 600);
        await store.providerUpsert('RefreshToken', `rt-${grantId}`, { grantId, accountId: account }, 3600);
      }
      await store.providerUpsert('Session', `s-${account}`, { uid: base62(8), accountId: account }, 3600);
      const foreign = base62(16);
      await store.providerUpsert('Grant', foreign, { jti: foreign, accountId: base62(12) }, 3600);
      await store.providerUpsert('AccessToken', `at-${foreign}`, { grantId: foreign }, 600);

      expect(await store.providerRevokeByAccountId(account)).toEqual({ grants: 2, sessions: 1 });
      for (const grantId of grants) {
        expect(await store.providerFind('Grant', grantId)).toBeNull();
        expect(await store.providerFind('AccessToken', `at-${grantId}`)).toBeNull();
        expect(await store.providerFind('RefreshToken', `rt-${grantId}`)).toBeNull();
      }
      expect(await store.providerFind('Session', `s-${account}`)).toBeNull();
      expect(await store.providerFind('Grant', foreign)).not.toBeNull();
      expect(await store.providerFind('AccessToken', `at-${foreign}`)).not.toBeNull();
      expect(await store.providerRevokeByAccountId(account)).toEqual({ grants: 0, sessions: 0 });
    });

    it('providerGrantsOfAccount lists the account\'s live grants with their tokens, nobody else\'s, changing nothing', async () => {
      const account = base62(12);
      const [kept, ended] = [base62(16), base62(16)];
      for (const grantId of [kept, ended]) {
        await store.providerUpsert('Grant', grantId, { jti: grantId, kind: 'Grant', accountId: account, clientId: 'rp' }, 3600);
        await store.providerUpsert('AccessToken', `at-${grantId}`, { kind: 'AccessToken', grantId, accountId: account, iat: 100 }, 600);
        await store.providerUpsert('RefreshToken', `rt-${grantId}`, { kind: 'RefreshToken', grantId, accountId: account, iat: 100 }, 3600);
      }
      await store.providerUpsert('Session', `s-${account}`, { uid: base62(8), accountId: account }, 3600);
      const foreign = base62(16);
      await store.providerUpsert('Grant', foreign, { jti: foreign, accountId: base62(12) }, 3600);
      await store.providerRevokeByGrantId(ended);
      await store.providerDestroy('Grant', ended);

      const listed = await store.providerGrantsOfAccount(account);
      expect(listed).toHaveLength(1);
      expect(listed[0]!.id).toBe(kept);
      expect(listed[0]!.grant).toEqual({ jti: kept, kind: 'Grant', accountId: account, clientId: 'rp' });
      expect(listed[0]!.members.map((m) => m.kind).sort()).toEqual(['AccessToken', 'RefreshToken']);
      expect(await store.providerFind('RefreshToken', `rt-${kept}`)).not.toBeNull();
      expect(await store.providerGrantsOfAccount(base62(12))).toEqual([]);
    });
  });
}
