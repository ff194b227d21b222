/**
 * The part of the Store contract that brings a token's end forward (a rotation's grace period):
 * the token works until the new end and not after it, a sliding one cannot slide past it, and
 * nothing is ever extended. Run by `storeContract`, so it holds on every store it covers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, TokenRecord, UserRecord } from '../../src/store/store.js';
import { DAY, HOUR, MINUTE, base62, hex64, sampleUser, type StoreFactory } from './contract.js';

export function tokenExpiryContract(makeStore: StoreFactory): void {
  describe('shortenTokenExpiry', () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;
    let owner: UserRecord;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
      owner = sampleUser(now);
      await store.createUser(owner);
    });
    afterEach(() => cleanup());

    const token = async (over: Partial<TokenRecord> = {}): Promise<TokenRecord> => {
      const t: TokenRecord = { id: base62(16), userId: owner.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + 30 * DAY, createdBy: 'x', hash: hex64(), ...over };
      await store.insertToken(t, { max: 100, onLimit: 'refuse' }, now);
      return t;
    };

    it('ends an active token at the new time: usable before, not after, and listed as expired', async () => {
      const t = await token();
      const shortened = await store.shortenTokenExpiry(owner.id, t.id, now + HOUR, now);
      expect(shortened).toEqual({ ...t, expiresAt: now + HOUR });
      expect(await store.getToken(owner.id, t.id)).toEqual(shortened);
      expect((await store.useToken(owner.id, t.hash, now + HOUR - MINUTE, '10.0.0.1'))?.token.id).toBe(t.id);
      expect(await store.useToken(owner.id, t.hash, now + HOUR, '10.0.0.1')).toBeNull();
      const active = await store.listTokenPage(owner.id, { limit: 10, include: { revoked: false, expired: false } }, now + HOUR + 1);
      expect(active.tokens.map((x) => x.id)).not.toContain(t.id);
    });

    it('never extends, and leaves revoked tokens and unknown ids alone', async () => {
      const t = await token({ expiresAt: now + HOUR });
      expect((await store.shortenTokenExpiry(owner.id, t.id, now + DAY, now))?.expiresAt).toBe(now + HOUR);
      const revoked = await token();
      await store.revokeToken(owner.id, revoked.id, 'x', now);
      const before = await store.getToken(owner.id, revoked.id);
      expect(await store.shortenTokenExpiry(owner.id, revoked.id, now + MINUTE, now)).toEqual(before);
      expect(await store.shortenTokenExpiry(owner.id, base62(16), now + MINUTE, now)).toBeNull();
      expect(await store.shortenTokenExpiry(base62(12), t.id, now + MINUTE, now)).toBeNull();
    });

    it('caps a sliding token\'s maximum lifetime, so use cannot slide it past the new end', async () => {
      const t = await token({ expiration: 'sliding', slidingWindow: 7 * DAY, maxLifetimeAt: now + 90 * DAY, expiresAt: now + 7 * DAY });
      expect(await store.shortenTokenExpiry(owner.id, t.id, now + HOUR, now)).toMatchObject({ expiresAt: now + HOUR, maxLifetimeAt: now + HOUR });
      const used = await store.useToken(owner.id, t.hash, now + 30 * MINUTE, '10.0.0.2');
      expect(used?.token.expiresAt).toBe(now + HOUR);
      expect(await store.useToken(owner.id, t.hash, now + HOUR + 1, '10.0.0.2')).toBeNull();
    });
  });
}
