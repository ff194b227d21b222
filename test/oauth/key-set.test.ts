/**
 * Key phases from times alone (src/oauth/key-set.ts), and the key sets older versions stored
 * (no phases, retireAt on retiring keys, cookie keys as a plain list) read the way they meant.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { keyPhases, nextPhaseChange } from '../../src/oauth/key-set.js';
import { ProviderKeys } from '../../src/oauth/keys.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

const MIN = 60_000;
const key = (kid: string, activateAt: number) => ({ kid, createdAt: activateAt - MIN, activateAt });

describe('key phases', () => {
  const keys = [key('a', 0), key('b', 10 * MIN), key('c', 20 * MIN)];
  const retirement = 60 * MIN;

  it('next until activation, then current; the one it replaced retires after the retirement time', () => {
    expect(keyPhases(keys, 5 * MIN, retirement)).toMatchObject({ current: { kid: 'a' }, next: [{ kid: 'b' }, { kid: 'c' }], retired: [] });
    expect(keyPhases(keys, 15 * MIN, retirement)).toMatchObject({ current: { kid: 'b' }, next: [{ kid: 'c' }], retired: [{ kid: 'a' }] });
    expect(keyPhases(keys, 25 * MIN, retirement)).toMatchObject({ current: { kid: 'c' }, next: [], retired: [{ kid: 'b' }, { kid: 'a' }] });
    // a retires 60 min after b activated (at 70), b 60 min after c did (at 80)
    expect(keyPhases(keys, 75 * MIN, retirement)).toMatchObject({ current: { kid: 'c' }, retired: [{ kid: 'b' }] });
    expect(keyPhases(keys, 81 * MIN, retirement)).toMatchObject({ current: { kid: 'c' }, retired: [] });
  });

  it('says when the phases change next, so instances rebuild without waiting for a poll', () => {
    expect(nextPhaseChange(keys, 5 * MIN, retirement)).toBe(10 * MIN);
    expect(nextPhaseChange(keys, 25 * MIN, retirement)).toBe(70 * MIN);
    expect(nextPhaseChange(keys, 81 * MIN, retirement)).toBeUndefined();
  });
});

describe('key sets written by older versions', () => {
  it('are read as they were meant: the key without retireAt signs, cookie keys keep their order', async () => {
    const store = new MemoryStore({ auditRetentionMs: 1000 });
    const now = Date.now();
    const jwk = (kid: string) => ({ kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: 'x', e: 'AQAB' });
    await store.setSetting('oidc:signing-keys', JSON.stringify({ keys: [{ jwk: jwk('new'), createdAt: now - MIN }, { jwk: jwk('old'), createdAt: now - 60 * MIN, retireAt: now + 60 * MIN }] }));
    await store.setSetting('oidc:cookie-keys', JSON.stringify(['first-cookie-key', 'second-cookie-key']));
    const keys = new ProviderKeys(store, { clock: () => now, retirementMs: 2 * 24 * 60 * MIN, activationDelayMs: 2 * MIN, encryption: null });
    expect(await keys.prepare()).toEqual(['gave oidc:cookie-keys activation times']);
    expect(await keys.prepare()).toEqual([]);
    const snapshot = await keys.snapshot();
    expect(snapshot.jwks.keys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(snapshot.cookieKeys).toEqual(['first-cookie-key', 'second-cookie-key']);
    // The old signing key leaves at its recorded retireAt; the older cookie key after keyRetirement.
    const later = (ms: number) => new ProviderKeys(store, { clock: () => now + ms, retirementMs: 2 * 24 * 60 * MIN, activationDelayMs: 2 * MIN, encryption: null }).snapshot();
    expect((await later(61 * MIN)).jwks.keys.map((k) => k.kid)).toEqual(['new']);
    expect((await later(47 * 60 * MIN)).cookieKeys).toEqual(['first-cookie-key', 'second-cookie-key']);
    expect((await later(49 * 60 * MIN)).cookieKeys).toEqual(['first-cookie-key']);
  });
});

describe('oidc.keyActivationDelay', () => {
  it('is 0s or longer than the 30 s key poll; anything between is refused at start-up', () => {
    expect(parseConfig({}).oidc.keyActivationDelay).toBe(2 * MIN);
    expect(parseConfig({ oidc: { keyActivationDelay: '0s' } }).oidc.keyActivationDelay).toBe(0);
    expect(() => parseConfig({ oidc: { keyActivationDelay: '10s' } })).toThrow(/oidc\.keyActivationDelay: must be 0s .* or more than 30s/);
  });
});
