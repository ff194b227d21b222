import { describe, expect, it } from 'vitest';
import { newUserId } from '../../src/ids.js';
import { hashSecret, isTesseraSecret, newSecret, parseSecret } from '../../src/tokens/format.js';

describe('secret format', () => {
  const userId = newUserId();

  it('has a recognisable prefix, the owner id, and parses back', () => {
    const pat = newSecret('pat', userId);
    expect(pat).toMatch(/^tsr_[0-9A-Za-z]{50}$/);
    expect(pat.slice(4, 16)).toBe(userId);
    expect(parseSecret(pat)).toEqual({ kind: 'pat', userId, hash: hashSecret(pat) });
    const access = newSecret('access', userId);
    expect(parseSecret(access)).toEqual({ kind: 'access', userId, hash: hashSecret(access) });
    const refresh = newSecret('refresh', userId);
    expect(access).toMatch(/^tsa_[0-9A-Za-z]{50}$/);
    expect(refresh).toMatch(/^tsrt_[0-9A-Za-z]{50}$/);
    expect(parseSecret(refresh)).toEqual({ kind: 'refresh', userId, hash: hashSecret(refresh) });
  });

  it('carries at least 128 random bits: 32 base62 characters that differ between secrets', () => {
    expect(32 * Math.log2(62)).toBeGreaterThan(128);
    const randoms = new Set(Array.from({ length: 1000 }, () => newSecret('pat', userId).slice(16, 48)));
    expect(randoms.size).toBe(1000);
  });

  it('rejects a typo through the checksum, without any lookup', () => {
    const pat = newSecret('pat', userId);
    const i = 30;
    const typo = pat.slice(0, i) + (pat[i] === 'a' ? 'b' : 'a') + pat.slice(i + 1);
    // Still Tessera's to refuse (never handed to the OpenID Provider), but not a secret.
    expect(parseSecret(typo)).toEqual({ kind: 'unknown', claimed: 'pat' });
    expect(parseSecret(pat.slice(0, -1))).toEqual({ kind: 'unknown', claimed: 'pat' });
    expect(parseSecret(pat + 'x')).toEqual({ kind: 'unknown', claimed: 'pat' });
    const refresh = newSecret('refresh', userId);
    expect(parseSecret(refresh.slice(0, -6) + 'AAAAAA')).toEqual({ kind: 'unknown', claimed: 'refresh' });
    // A checksum of another kind's body does not carry over: the prefix is part of what is summed.
    expect(parseSecret('tsa_' + pat.slice(4))).toEqual({ kind: 'unknown', claimed: 'access' });
  });

  it('recognises JWT-shaped strings (three base64url parts), up to 8 KiB', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl';
    expect(parseSecret(jwt)).toEqual({ kind: 'jwt' });
    expect(isTesseraSecret(parseSecret(jwt))).toBe(false);
    expect(parseSecret(`a.b.${'c'.repeat(8192 - 4)}`)).toEqual({ kind: 'jwt' });
    expect(parseSecret(`a.b.${'c'.repeat(8192 - 3)}`)).toEqual({ kind: 'unknown', claimed: null });
    for (const notJwt of ['a.b', 'a.b.c.d', 'a..c', 'a.b.c=', 'a.b.c ']) expect(parseSecret(notJwt), notJwt).toEqual({ kind: 'unknown', claimed: null });
  });

  it('calls anything else unknown, and says when it claims a Tessera prefix', () => {
    for (const junk of ['', 'Bearer x', 'tsx_' + 'a'.repeat(50), 'x'.repeat(10_000), 'ts_' + 'a'.repeat(50), 'TSR_' + 'a'.repeat(50)]) {
      expect(parseSecret(junk), junk.slice(0, 20)).toEqual({ kind: 'unknown', claimed: null });
      expect(isTesseraSecret(parseSecret(junk))).toBe(false);
    }
    for (const [junk, claimed] of [['tsr_', 'pat'], ['tsa_x', 'access'], ['tsrt_' + '!'.repeat(50), 'refresh'], ['tsr_' + 'a'.repeat(49), 'pat']] as const) {
      expect(parseSecret(junk), junk).toEqual({ kind: 'unknown', claimed });
      expect(isTesseraSecret(parseSecret(junk))).toBe(true);
    }
  });

  it('looks at a huge input only by its prefix', () => {
    const huge = 'tsr_' + 'a'.repeat(5_000_000);
    expect(parseSecret(huge)).toEqual({ kind: 'unknown', claimed: 'pat' });
    expect(parseSecret('eyJ' + '.x'.repeat(2_000_000))).toEqual({ kind: 'unknown', claimed: null });
    expect(parseSecret(newSecret('pat', userId) + 'a'.repeat(1_000_000))).toEqual({ kind: 'unknown', claimed: 'pat' });
  });
});
