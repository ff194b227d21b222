/**
 * The part of the Store contract for named short-lived state: claims ("used once"), markers and
 * transient values. Run by `storeContract`, so it holds on memory, Redis, Cluster and Sentinel.
 * Lapsing is decided by the injected clock, never by waiting.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { DAY, MINUTE, SECOND, base62, type StoreFactory } from './contract.js';

export function shortLivedContract(makeStore: StoreFactory): void {
  describe('claims, markers and transient values', () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      now = Date.now();
    });
    afterEach(() => cleanup());

    it('claimOnce: true for the first caller only, until the claim lapses', async () => {
      const key = `assertion:${base62(16)}`;
      const t0 = now;
      expect(await store.claimOnce(key, MINUTE, now)).toBe(true);
      expect(await store.claimOnce(key, MINUTE, now)).toBe(false);
      expect(await store.claimOnce(key, 60 * MINUTE, now + 59 * SECOND)).toBe(false);
      expect(await store.claimOnce(`other:${base62(8)}`, MINUTE, now)).toBe(true);
      now = t0 + MINUTE;
      expect(await store.claimOnce(key, MINUTE, now)).toBe(true);
      expect(await store.claimOnce(key, MINUTE, now + SECOND)).toBe(false);
    });

    it('claimOnce: exactly one of many concurrent claimers wins', async () => {
      const key = `jti:${base62(16)}`;
      const wins = await Promise.all(Array.from({ length: 20 }, () => store.claimOnce(key, MINUTE, now)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it('markers hold until they lapse or are cleared; setting again restarts the time', async () => {
      const key = `disabled:${base62(12)}`;
      const t0 = now;
      expect(await store.hasMarker(key, now)).toBe(false);
      await store.setMarker(key, DAY, now);
      expect(await store.hasMarker(key, now + DAY - 1)).toBe(true);
      expect(await store.hasMarker(key, now + DAY)).toBe(false);
      await store.setMarker(key, DAY, t0 + 12 * 3_600_000);
      expect(await store.hasMarker(key, t0 + DAY)).toBe(true);
      await store.clearMarker(key);
      expect(await store.hasMarker(key, now)).toBe(false);
      await expect(store.clearMarker(`never:${base62(8)}`)).resolves.toBeUndefined();
    });

    it('transient values: put, peek leaves it, take removes it; JSON in, JSON out', async () => {
      const id = base62(43);
      const value = { source: 'okta', requestId: '_abc', nested: { list: [1, 'two', null] }, dropped: undefined };
      await store.putTransient('sign-in-request', id, value, 10 * MINUTE, now);
      const stored = { source: 'okta', requestId: '_abc', nested: { list: [1, 'two', null] } };
      expect(await store.peekTransient('sign-in-request', id, now)).toEqual(stored);
      expect(await store.peekTransient('sign-in-request', id, now)).toEqual(stored);
      // Kinds are separate spaces.
      expect(await store.peekTransient('sign-in-handoff', id, now)).toBeNull();
      expect(await store.takeTransient('sign-in-request', id, now)).toEqual(stored);
      expect(await store.takeTransient('sign-in-request', id, now)).toBeNull();
      expect(await store.peekTransient('sign-in-request', id, now)).toBeNull();
    });

    it('transient values lapse by the caller\'s clock, and putting again replaces', async () => {
      const id = base62(20);
      await store.putTransient('refresh-grant', id, { v: 1 }, MINUTE, now);
      await store.putTransient('refresh-grant', id, { v: 2 }, MINUTE, now);
      expect(await store.peekTransient('refresh-grant', id, now + MINUTE - 1)).toEqual({ v: 2 });
      expect(await store.peekTransient('refresh-grant', id, now + MINUTE)).toBeNull();
      expect(await store.takeTransient('refresh-grant', id, now + MINUTE)).toBeNull();
    });

    it('takeTransient: of many concurrent takers exactly one gets the value', async () => {
      const id = base62(43);
      await store.putTransient('sign-in-handoff', id, { userId: 'u1' }, MINUTE, now);
      const taken = await Promise.all(Array.from({ length: 12 }, () => store.takeTransient('sign-in-handoff', id, now)));
      expect(taken.filter((v) => v !== null)).toEqual([{ userId: 'u1' }]);
    });

    it('bad input is refused with a RangeError and stores nothing', async () => {
      const key = `bad:${base62(8)}`;
      for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 3651 * DAY]) {
        await expect(store.claimOnce(key, ttl, now), String(ttl)).rejects.toThrow(RangeError);
        await expect(store.setMarker(key, ttl, now), String(ttl)).rejects.toThrow(RangeError);
        await expect(store.putTransient('kind', key, { a: 1 }, ttl, now), String(ttl)).rejects.toThrow(RangeError);
      }
      expect(await store.hasMarker(key, now)).toBe(false);
      expect(await store.peekTransient('kind', key, now)).toBeNull();
      expect(await store.claimOnce(key, MINUTE, now)).toBe(true);

      for (const kind of ['', 'Saml', 'a:b', 'sign in', 'x'.repeat(65)]) {
        await expect(store.putTransient(kind, 'id', { a: 1 }, MINUTE, now), kind).rejects.toThrow(RangeError);
        await expect(store.peekTransient(kind, 'id', now), kind).rejects.toThrow(RangeError);
        await expect(store.takeTransient(kind, 'id', now), kind).rejects.toThrow(RangeError);
      }
      await expect(store.claimOnce('', MINUTE, now)).rejects.toThrow(RangeError);
      await expect(store.setMarker('x'.repeat(1025), MINUTE, now)).rejects.toThrow(RangeError);
      await expect(store.putTransient('kind', '', { a: 1 }, MINUTE, now)).rejects.toThrow(RangeError);
      for (const value of [null, [1, 2], 'text', 3] as unknown[]) {
        await expect(store.putTransient('kind', key, value as Record<string, unknown>, MINUTE, now)).rejects.toThrow(RangeError);
      }
      expect(await store.peekTransient('kind', key, now)).toBeNull();
    });
  });
}
