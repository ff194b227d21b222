/**
 * Putting user input into LDAP filters and DNs. A username is never concatenated raw: `*` in a
 * filter is a wildcard and `)(` starts a new clause (filter injection, e.g. `*)(uid=*` would match
 * everyone), and `,` or `+` in a DN moves the bind to another entry.
 */

/**
 * RFC 4515 §3: in an assertion value, `*`, `(`, `)`, `\` and NUL must be written as `\XX` (hex).
 * Everything else, UTF-8 included, may appear as is.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * RFC 4514 §2.4: in an attribute value of a DN, escape `"` `+` `,` `;` `<` `>` `\`, a leading `#`
 * or space, and a trailing space with a backslash; NUL as `\00`. `=` is escaped too (allowed by
 * §3's grammar): some servers' parsers mis-read a bare one.
 */
export function escapeDnValue(value: string): string {
  const last = value.length - 1;
  return value
    .split('')
    .map((c, i) => {
      if (c === '\0') return '\\00';
      if ('"+,;<>\\='.includes(c)) return `\\${c}`;
      if ((i === 0 && (c === '#' || c === ' ')) || (i === last && c === ' ')) return `\\${c}`;
      return c;
    })
    .join('');
}

/**
 * The value of the first RDN of a DN, unescaped: `cn=R\2CD\, West,ou=groups,...` → `R,D, West`.
 * How `memberOf` values (group DNs) become group names. Undefined when the DN cannot be read.
 */
export function firstRdnValue(dn: string): string | undefined {
  const eq = dn.indexOf('=');
  if (eq < 1) return undefined;
  const bytes: number[] = [];
  const text = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  for (let i = eq + 1; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === ',' || c === '+') break;
    if (c !== '\\') {
      text(c);
      continue;
    }
    const hex = dn.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      // \XX is one byte of the UTF-8 encoding; multi-byte characters come as several.
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (i + 1 < dn.length) {
      text(dn[i + 1]!);
      i += 1;
    } else {
      return undefined;
    }
  }
  const value = Buffer.from(bytes).toString('utf8').trim();
  return value || undefined;
}
