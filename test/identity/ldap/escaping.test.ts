import { FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { escapeDnValue, escapeFilterValue, firstRdnValue } from '../../../src/identity/ldap/escaping.js';

describe('escapeFilterValue (RFC 4515 §3)', () => {
  it('escapes the five characters a filter value may not carry', () => {
    expect(escapeFilterValue('*')).toBe('\\2a');
    expect(escapeFilterValue('(')).toBe('\\28');
    expect(escapeFilterValue(')')).toBe('\\29');
    expect(escapeFilterValue('\\')).toBe('\\5c');
    expect(escapeFilterValue('\0')).toBe('\\00');
  });

  it('leaves ordinary and non-ASCII text alone', () => {
    expect(escapeFilterValue('alice.smith@example.org')).toBe('alice.smith@example.org');
    expect(escapeFilterValue('jürgen')).toBe('jürgen');
    expect(escapeFilterValue('')).toBe('');
  });

  it('turns injection attempts into one literal equality value', () => {
    for (const attack of ['*)(uid=*', 'admin)(|(uid=*', '*', 'x)(&', '\\2a', 'a\\)(uid=*']) {
      const filter = FilterParser.parseString(`(&(objectClass=person)(uid=${escapeFilterValue(attack)}))`);
      // Still an AND of exactly two clauses, the second comparing uid with the whole input.
      expect(filter.toString()).toBe(`(&(objectClass=person)(uid=${escapeFilterValue(attack)}))`);
      const parts = (filter as unknown as { filters: { attribute: string; value: string }[] }).filters;
      expect(parts).toHaveLength(2);
      expect(parts[1]!.attribute).toBe('uid');
      expect(parts[1]!.value).toBe(attack);
    }
  });
});

describe('escapeDnValue (RFC 4514 §2.4)', () => {
  it('escapes the special characters with a backslash', () => {
    expect(escapeDnValue('a,b')).toBe('a\\,b');
    expect(escapeDnValue('a+b')).toBe('a\\+b');
    expect(escapeDnValue('"q"')).toBe('\\"q\\"');
    expect(escapeDnValue('a;b<c>d')).toBe('a\\;b\\<c\\>d');
    expect(escapeDnValue('back\\slash')).toBe('back\\\\slash');
    expect(escapeDnValue('x=y')).toBe('x\\=y');
    expect(escapeDnValue('nul\0')).toBe('nul\\00');
  });

  it('escapes a leading # or space and a trailing space only', () => {
    expect(escapeDnValue('#1')).toBe('\\#1');
    expect(escapeDnValue(' lead')).toBe('\\ lead');
    expect(escapeDnValue('trail ')).toBe('trail\\ ');
    expect(escapeDnValue('in side#')).toBe('in side#');
    expect(escapeDnValue(' ')).toBe('\\ ');
    expect(escapeDnValue('a\\ ')).toBe('a\\\\\\ ');
  });

  it('keeps an injected RDN inside the value', () => {
    const dn = `uid=${escapeDnValue('bob,ou=admins')},ou=people,dc=example,dc=org`;
    expect(dn).toBe('uid=bob\\,ou\\=admins,ou=people,dc=example,dc=org');
    expect(firstRdnValue(dn)).toBe('bob,ou=admins');
  });
});

describe('firstRdnValue', () => {
  it('reads the value of the first RDN', () => {
    expect(firstRdnValue('cn=developers,ou=groups,dc=example,dc=org')).toBe('developers');
    expect(firstRdnValue('CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=com')).toBe('Domain Admins');
    expect(firstRdnValue('cn=solo')).toBe('solo');
  });

  it('unescapes backslash pairs and hex-encoded UTF-8', () => {
    expect(firstRdnValue('cn=R\\2CD\\, West,ou=groups')).toBe('R,D, West');
    expect(firstRdnValue('cn=J\\C3\\BCrgen,ou=people')).toBe('Jürgen');
    expect(firstRdnValue('cn=a\\+b+sn=x,ou=people')).toBe('a+b');
  });

  it('is undefined for what is not a DN', () => {
    expect(firstRdnValue('developers')).toBeUndefined();
    expect(firstRdnValue('cn=,ou=x')).toBeUndefined();
    expect(firstRdnValue('cn=broken\\')).toBeUndefined();
  });
});
