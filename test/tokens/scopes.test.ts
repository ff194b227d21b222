import { describe, expect, it } from 'vitest';
import { InvalidScope } from '../../src/errors.js';
import { assertGrantable, holdsAll, parseScopes } from '../../src/tokens/scopes.js';

describe('scopes', () => {
  it('parses strings and arrays, dedupes and sorts', () => {
    expect(parseScopes('b a  a')).toEqual(['a', 'b']);
    expect(parseScopes(['resource:x:rw', 'read'])).toEqual(['read', 'resource:x:rw']);
    expect(parseScopes(undefined)).toEqual([]);
  });

  it('rejects malformed scopes', () => {
    expect(() => parseScopes('resource:x:rx')).toThrow(InvalidScope);
    expect(() => parseScopes('bad"quote')).toThrow(InvalidScope);
    expect(() => parseScopes([1])).toThrow(InvalidScope);
    expect(() => parseScopes({})).toThrow(InvalidScope);
    expect(() => parseScopes(Array.from({ length: 51 }, (_, i) => `s${i}`))).toThrow(InvalidScope);
  });

  it('a full-rights caller grants anything; a scoped one only what it holds', () => {
    expect(() => assertGrantable(null, [])).not.toThrow();
    expect(() => assertGrantable(['resource:x:rw'], ['resource:x:r'])).not.toThrow();
    expect(() => assertGrantable(['resource:x:r'], ['resource:x:rw'])).toThrow(/cannot grant resource:x:rw/);
    expect(() => assertGrantable(['resource:x:rw'], ['resource:y:r'])).toThrow(InvalidScope);
    expect(() => assertGrantable(['read'], [])).toThrow(/full rights/);
  });

  it('holdsAll checks demanded scopes', () => {
    expect(holdsAll(null, ['anything'])).toBe(true);
    expect(holdsAll(['resource:a:rw'], ['resource:a:w'])).toBe(true);
    expect(holdsAll(['resource:a:r'], ['resource:a:w'])).toBe(false);
  });
});
