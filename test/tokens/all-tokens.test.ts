/**
 * Every user's tokens by page (tokens/all-tokens.ts) on the memory store, counting store calls:
 * a request reads a bounded number of users however many there are, and a walk that crosses
 * many users without tokens still ends with every token met once.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { Store, TokenRecord } from '../../src/store/store.js';
import { ALL_TOKENS_USER_BUDGET, allTokensPage } from '../../src/tokens/all-tokens.js';
import { DAY, base62, hex64, sampleUser } from '../store/contract.js';

const NONE = { revoked: false, expired: false };

describe('every user\'s tokens by page', () => {
  it('reads at most ALL_TOKENS_USER_BUDGET users per page, and a walk over 650 users meets each token once', async () => {
    const store = new MemoryStore({ auditRetentionMs: DAY });
    const now = Date.now();
    const users = Array.from({ length: 650 }, (_, i) => sampleUser(now, { username: `u-${String(i).padStart(3, '0')}` }));
    for (const user of users) await store.createUser(user);
    const ids: string[] = [];
    for (const owner of [users[3]!, users[640]!, users[640]!]) {
      const token: TokenRecord = { id: base62(16), userId: owner.id, name: 't', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + DAY, createdBy: 'x', hash: hex64() };
      await store.insertToken(token, { max: 10, onLimit: 'refuse' }, now);
      ids.push(token.id);
    }
    let usersRead = 0;
    let tokenPages = 0;
    const counted = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'listUserPage') return async (...args: Parameters<Store['listUserPage']>) => {
          const page = await target.listUserPage(...args);
          usersRead += page.users.length;
          return page;
        };
        if (prop === 'listTokenPage') return (...args: Parameters<Store['listTokenPage']>) => (tokenPages++, target.listTokenPage(...args));
        return Reflect.get(target, prop, receiver);
      },
    });
    const seen: string[] = [];
    const perPage: number[] = [];
    let cursor: string | undefined;
    do {
      usersRead = 0;
      tokenPages = 0;
      const page = await allTokensPage(counted, { limit: 2, cursor, include: NONE }, now);
      expect(usersRead).toBeLessThanOrEqual(ALL_TOKENS_USER_BUDGET);
      expect(tokenPages).toBeLessThanOrEqual(ALL_TOKENS_USER_BUDGET + 1);
      seen.push(...page.entries.map((e) => e.token.id));
      perPage.push(page.entries.length);
      cursor = page.next;
    } while (cursor && perPage.length < 50);
    expect(seen.sort()).toEqual([...ids].sort());
    // Some pages came back short (users without tokens) and still had a next.
    expect(perPage.length).toBeGreaterThan(2);
    expect(perPage.every((n) => n <= 2)).toBe(true);
  });
});
