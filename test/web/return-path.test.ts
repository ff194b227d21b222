import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../src/web/return-path.js';

describe('safeReturnPath', () => {
  it('keeps paths on this site', () => {
    expect(safeReturnPath('/manage_tokens')).toBe('/manage_tokens');
    expect(safeReturnPath('/admin/users?q=al#top')).toBe('/admin/users?q=al#top');
    expect(safeReturnPath('/a/../b')).toBe('/b');
  });

  it('refuses anything a browser could resolve to another origin', () => {
    for (const bad of [
      '//evil.example',
      'https://evil.example',
      '/\\evil.example',
      '/.//evil.example/phish',
      '/..//evil.example/x',
      '/%2e%2e//evil.example',
      '/%2E//evil.example',
      '/a/..//evil.example',
      'javascript:alert(1)',
      '/\r\n//evil.example',
      '',
      'manage_tokens',
    ]) {
      const out = safeReturnPath(bad);
      expect(out === null || (!out.startsWith('//') && out.startsWith('/')), bad).toBe(true);
      expect(out, bad).toBeNull();
    }
  });
});
