import { describe, expect, it } from 'vitest';
import { newUserId } from '../../src/ids.js';
import { hashSecret, newSecret, parseSecret } from '../../src/tokens/format.js';

describe('secret format', () => {
  const userId = newUserId();

  it('has a recognisable prefix, the owner id, and parses back', () => {
    const pat = newSecret('pat', userId);
    expect(pat).toMatch(/^tsr_[0-9A-Za-z]{50}$/);
    expect(pat.slice(4, 16)).toBe(userId);
    expect(parseSecret(pat)).toEqual({ kind: 'pat', userId, hash: hashSecret(pat) });
    expect(parseSecret(newSecret('access', userId))?.kind).toBe('access');
    expect(parseSecret(newSecret('refresh', userId))?.kind).toBe('refresh');
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
    expect(parseSecret(typo)).toBeNull();
    expect(parseSecret(pat.slice(0, -1))).toBeNull();
    expect(parseSecret(pat + 'x')).toBeNull();
  });

  it('rejects garbage', () => {
    for (const junk of ['', 'tsr_', 'Bearer x', 'tsx_' + 'a'.repeat(50), 'x'.repeat(10_000), 'tsr_' + '!'.repeat(50)]) {
      expect(parseSecret(junk)).toBeNull();
    }
  });
});
