/**
 * Where a browser may be sent after signing in: a path on this site, nothing else. Anything that
 * a browser could resolve to another origin is refused (open redirects turn a trusted sign-in
 * link into a phishing link): `//evil.example` and `/\evil.example` (browsers read `\` as `/`)
 * are protocol-relative, `https://evil.example` is absolute, and control characters are
 * stripped by URL parsers in ways that can produce either.
 */
const BASE = 'http://tessera.invalid';

export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) return null;
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return null;
  const url = new URL(value, BASE);
  if (url.origin !== BASE) return null;
  // The URL parser resolves dot segments: `/.//evil.example` and `/%2e%2e//evil.example` both come
  // out as `//evil.example`, protocol-relative again. Check what is actually returned.
  const path = url.pathname + url.search + url.hash;
  if (path.startsWith('//') || path.includes('\\')) return null;
  return path;
}
