/**
 * What one LDAP source reads from its directory: the user entry (found by search or at a DN built
 * from a template), the user's groups, and the `Identity` they make. Connection-free: every method
 * takes the `Search` to run on (the service account's, or the user's own connection), so sign-in
 * and revalidation read the same way.
 */
import { NoSuchObjectError, type Entry } from 'ldapts';
import type { Identity } from '../source.js';
import { validUsername } from '../users.js';
import type { LdapSourceConfig } from './config.js';
import type { Search } from './connection.js';
import { escapeDnValue, escapeFilterValue, firstRdnValue } from './escaping.js';
import { inAnyGroup, roleFor } from '../role-mapping.js';

/** AD `userAccountControl` ACCOUNTDISABLE flag (MS-ADTS 2.2.16). */
const ACCOUNT_DISABLED = 0x2;

/** Values of an attribute, whatever case the server spelled its name in (LDAP names are case-insensitive). */
function attributeValues(entry: Entry, name: string): string[] {
  const wanted = name.toLowerCase();
  const key = Object.keys(entry).find((k) => k !== 'dn' && k.toLowerCase() === wanted);
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}

export class LdapDirectory {
  /** The attribute holding the Tessera username (revalidation looks users up by it). */
  readonly usernameAttribute: string;
  private readonly timeLimit: number;

  constructor(
    private readonly config: LdapSourceConfig,
    private readonly warn: (message: string) => void,
  ) {
    const templateAttribute = config.bindDnTemplate?.split('=')[0]?.trim();
    this.usernameAttribute = config.attributes.username ?? config.userSearch?.usernameAttribute ?? templateAttribute ?? 'uid';
    // Server-side limit too (seconds), so an expensive search is abandoned there as well as here.
    this.timeLimit = Math.max(1, Math.ceil(config.timeout / 1000));
  }

  private get readAttributes(): string[] {
    const { attributes, groups, userSearch } = this.config;
    const names = [this.usernameAttribute, attributes.displayName, attributes.email, 'userAccountControl'];
    if (userSearch) names.push(userSearch.usernameAttribute);
    if (groups && 'memberOfAttribute' in groups) names.push(groups.memberOfAttribute);
    return [...new Set(names)];
  }

  /** The entries of `found` (search references are not followed, only reported). */
  private entries(found: { searchEntries: Entry[]; searchReferences: string[] }, what: string): Entry[] {
    if (found.searchReferences.length) this.warn(`${what}: ignored ${found.searchReferences.length} referral(s); Tessera does not follow referrals`);
    return found.searchEntries;
  }

  private withoutDisabled(filter: string): string {
    return this.config.disabledFilter ? `(&${filter}(!${this.config.disabledFilter}))` : filter;
  }

  /**
   * The one enabled user entry whose `attribute` equals `value` (search mode), or null: none, a
   * disabled one, or several (ambiguous, so nobody).
   */
  async findUser(search: Search, attribute: string, value: string): Promise<Entry | null> {
    const { userSearch } = this.config;
    if (!userSearch) throw new Error('findUser needs userSearch');
    const filter = this.withoutDisabled(`(&${userSearch.filter}(${attribute}=${escapeFilterValue(value)}))`);
    const found = await search(userSearch.baseDn, {
      scope: userSearch.scope,
      filter,
      attributes: this.readAttributes,
      sizeLimit: 2,
      timeLimit: this.timeLimit,
    });
    const entries = this.entries(found, 'user search');
    if (entries.length > 1) this.warn(`user search: ${attribute}=${value} matches several entries; refusing the sign-in`);
    const entry = entries.length === 1 ? entries[0]! : null;
    return entry && !this.disabledByAccountControl(entry) ? entry : null;
  }

  /** `bindDnTemplate` with the username DN-escaped (RFC 4514). */
  userDn(username: string): string {
    return this.config.bindDnTemplate!.replace('{username}', escapeDnValue(username));
  }

  /** The enabled entry at `dn` (template mode), or null when it is missing or disabled. */
  async readUser(search: Search, dn: string): Promise<Entry | null> {
    try {
      const found = await search(dn, {
        scope: 'base',
        filter: this.withoutDisabled('(objectClass=*)'),
        attributes: this.readAttributes,
        timeLimit: this.timeLimit,
      });
      const entry = found.searchEntries[0];
      return entry && !this.disabledByAccountControl(entry) ? entry : null;
    } catch (err) {
      if (err instanceof NoSuchObjectError) return null;
      throw err;
    }
  }

  private disabledByAccountControl(entry: Entry): boolean {
    const flags = Number(attributeValues(entry, 'userAccountControl')[0] ?? 0);
    return (flags & ACCOUNT_DISABLED) !== 0;
  }

  /** Group names of the user, sorted, without duplicates. */
  async groupsOf(search: Search, entry: Entry, username: string): Promise<string[]> {
    const { groups } = this.config;
    if (!groups) return [];
    let names: (string | undefined)[];
    if ('memberOfAttribute' in groups) {
      // DNs compare case-insensitively; spaces after commas are not significant (RFC 4514).
      const norm = (dn: string) => dn.toLowerCase().replace(/\s*,\s*/g, ',');
      const base = groups.memberOfBaseDn && `,${norm(groups.memberOfBaseDn)}`;
      names = attributeValues(entry, groups.memberOfAttribute)
        .filter((dn) => !base || norm(dn).endsWith(base))
        .map(firstRdnValue);
    } else {
      const { baseDn, scope, filter, nameAttribute } = groups.search;
      const found = await search(baseDn, {
        scope,
        // Placeholders filled with filter-escaped values: a DN may contain ( ) * \ too.
        filter: filter.replaceAll('{dn}', escapeFilterValue(entry.dn)).replaceAll('{username}', escapeFilterValue(username)),
        attributes: [nameAttribute],
        timeLimit: this.timeLimit,
      });
      names = this.entries(found, 'group search').map((group) => attributeValues(group, nameAttribute)[0]);
    }
    return [...new Set(names.filter((n): n is string => Boolean(n)))].sort();
  }

  /** The Tessera username an entry carries, or undefined when it has none Tessera accepts. */
  usernameOf(entry: Entry): string | undefined {
    const username = attributeValues(entry, this.usernameAttribute)[0];
    if (username === undefined) return undefined;
    if (!validUsername(username)) {
      this.warn(`${entry.dn}: ${this.usernameAttribute} "${username}" is not a valid Tessera username; refusing the sign-in`);
      return undefined;
    }
    return username;
  }

  /**
   * The identity of an enabled entry, or null when `requireGroup` keeps the user out. Group names
   * compare case-insensitively, as LDAP compares `cn`.
   */
  identity(sourceId: string, entry: Entry, username: string, groups: string[]): Identity | null {
    const { attributes, requireGroup, roleMapping } = this.config;
    if (requireGroup && !inAnyGroup(groups, [requireGroup])) return null;
    return {
      source: sourceId,
      username,
      displayName: attributeValues(entry, attributes.displayName)[0] ?? username,
      email: attributeValues(entry, attributes.email)[0] ?? '',
      groups,
      // Without a mapping the role is Tessera's to manage; with one, the directory decides both ways.
      role: roleFor(groups, roleMapping),
    };
  }
}
