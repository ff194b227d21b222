/**
 * Options of one LDAP identity source (`ldap:` in the config, a list: several directories may be
 * configured, tried in order after the built-in accounts). Modelled on Dex's LDAP connector.
 *
 * ```yaml
 * ldap:
 *   - id: corp                       # users of this source get source "corp"
 *     displayName: Corporate directory
 *     url: ldaps://ldap.example.org
 *     bindDn: cn=tessera,ou=services,dc=example,dc=org
 *     bindPassword: ${LDAP_BIND_PASSWORD}
 *     userSearch:
 *       baseDn: ou=people,dc=example,dc=org
 *       filter: (objectClass=inetOrgPerson)
 *       usernameAttribute: uid
 *     groups:
 *       search:
 *         baseDn: ou=groups,dc=example,dc=org
 *         filter: (member={dn})
 *     roleMapping:
 *       admin: [tessera-admins]
 *     requireGroup: developers
 * ```
 *
 * docs/ldap.md has the OpenLDAP and Active Directory variants. Filters are checked for RFC 4515
 * syntax at start-up, so a typo fails the boot instead of every login.
 */
import { roleMappingSchema } from '../role-mapping.js';
import { FilterParser } from 'ldapts';
import { z } from 'zod';
import { sourceIdSchema, sourceListSchema } from '../source-id.js';
import { durationField } from '../../config/duration.js';

const duration = durationField;

function parsesAsFilter(filter: string): boolean {
  try {
    FilterParser.parseString(filter);
    return true;
  } catch {
    return false;
  }
}

const ldapFilter = z.string().refine(parsesAsFilter, 'not an LDAP filter (RFC 4515), e.g. (objectClass=person)');

/** A filter with `{dn}` / `{username}` placeholders: checked with the placeholders filled in. */
const filterTemplate = z
  .string()
  .refine((f) => /\{(dn|username)\}/.test(f), 'must contain {dn} or {username}')
  .refine((f) => parsesAsFilter(f.replaceAll('{dn}', 'x').replaceAll('{username}', 'x')), 'not an LDAP filter (RFC 4515)');

const scope = z.enum(['sub', 'one']).default('sub');

const tls = z
  .strictObject({
    /** PEM file of the CA(s) that sign the directory's certificate. Default: Node's public CAs. */
    caFile: z.string().min(1).optional(),
    /** The same inline (PEM text), e.g. from `${LDAP_CA}`. */
    ca: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be PEM (-----BEGIN CERTIFICATE-----)' }).optional(),
    /**
     * Accept any certificate. Only for a first try against a lab directory: anyone on the path can
     * then read every password Tessera checks. Default false.
     */
    insecureSkipVerify: z.boolean().default(false),
  })
  .refine((t) => !(t.ca && t.caFile), 'give one of ca, caFile');

const userSearch = z.strictObject({
  /** Where users live, e.g. `ou=people,dc=example,dc=org` (AD: `cn=Users,dc=corp,dc=example,dc=com`). */
  baseDn: z.string().min(1),
  /** `sub`: the whole subtree below baseDn (default); `one`: direct children only. */
  scope,
  /**
   * Which entries are users; Tessera ANDs it with `(usernameAttribute=<escaped username>)`.
   * Default `(objectClass=person)`. AD: `(&(objectClass=user)(objectCategory=person))`.
   */
  filter: ldapFilter.default('(objectClass=person)'),
  /** The attribute people type as their username. Default `uid`; AD: `sAMAccountName`. */
  usernameAttribute: z.string().min(1).default('uid'),
});

const groupSearch = z.strictObject({
  /** Where groups live, e.g. `ou=groups,dc=example,dc=org`. */
  baseDn: z.string().min(1),
  /** `sub` (default) or `one`. */
  scope,
  /**
   * Groups of a user. `{dn}` is the user's DN, `{username}` the user's name, both escaped for a
   * filter. `(member={dn})` for groupOfNames, `(memberUid={username})` for RFC 2307 posixGroup.
   */
  filter: filterTemplate,
  /** The attribute whose value is the group's name. Default `cn`. */
  nameAttribute: z.string().min(1).default('cn'),
});

// One object rather than a union, so a mistake inside `search` is reported by key, not as "Invalid input".
const groups = z
  .strictObject({
    /**
     * Read the groups from an attribute of the user entry holding group DNs: `memberOf` (the
     * default; AD, or OpenLDAP with the memberof overlay). A group's name is the value of the
     * first RDN of its DN (`cn=developers,ou=groups,...` → `developers`).
     */
    memberOfAttribute: z.string().min(1).optional(),
    /**
     * With memberOf: only groups under this DN count (e.g. `ou=groups,dc=example,dc=org`).
     * Names are only the first RDN, so without it a `cn=tessera-admins` created anywhere in the
     * directory (by whoever may create groups there) would count as the admin group.
     */
    memberOfBaseDn: z.string().min(1).optional(),
    /** Or search for the groups the user is a member of. */
    search: groupSearch.optional(),
  })
  .refine((g) => !(g.memberOfAttribute && g.search), 'give one of memberOfAttribute, search')
  .refine((g) => !(g.memberOfBaseDn && g.search), 'memberOfBaseDn goes with memberOf, not with search (which has its own baseDn)')
  .transform((g): { memberOfAttribute: string; memberOfBaseDn?: string } | { search: z.output<typeof groupSearch> } =>
    g.search ? { search: g.search } : { memberOfAttribute: g.memberOfAttribute ?? 'memberOf', ...(g.memberOfBaseDn ? { memberOfBaseDn: g.memberOfBaseDn } : {}) },
  );

const attributes = z.strictObject({
  /**
   * The Tessera username. Default: `userSearch.usernameAttribute`, or with `bindDnTemplate` the
   * attribute of its first RDN (`uid` for `uid={username},...`). Revalidation looks users up by
   * it, so it must identify one entry.
   */
  username: z.string().min(1).optional(),
  /** Display name. Default `cn` (AD: `displayName`). */
  displayName: z.string().min(1).default('cn'),
  /** E-mail address. Default `mail`. */
  email: z.string().min(1).default('mail'),
});


export const ldapSourceSchema = z
  .strictObject({
    /**
     * Source id: stored on each user (`source`), chosen with `"source"` at login. Lower case, and
     * not `local`. Changing it later orphans the users it created.
     */
    id: sourceIdSchema,
    /** Shown where people pick a source (`LoginService.listSources`, the sign-in page). */
    displayName: z.string().min(1),
    /** `ldap://host[:389]` or `ldaps://host[:636]`. No DN or filter in the URL. */
    url: z.string().regex(/^ldaps?:\/\/[^/?#\s]+\/?$/i, 'ldap://host[:port] or ldaps://host[:port]'),
    /** Upgrade ldap:// with StartTLS before anything is sent. Default false. */
    startTls: z.boolean().default(false),
    /**
     * Allow ldap:// without StartTLS, which sends every password Tessera checks in clear. Must be
     * said explicitly (Dex's `insecureNoSSL`); for a directory on the same host only. Default false.
     */
    insecureNoTls: z.boolean().default(false),
    /** Certificate checks for ldaps:// and StartTLS. */
    tls: tls.default({ insecureSkipVerify: false }),
    /**
     * Service account for searches (users, groups, revalidation). Without it Tessera searches
     * anonymously, which most directories refuse. Write the password as `${ENV_VAR}`.
     */
    bindDn: z.string().min(1).optional(),
    bindPassword: z.string().min(1).optional(),
    /** Find the user by searching (the usual way). Give this or `bindDnTemplate`. */
    userSearch: userSearch.optional(),
    /**
     * Or bind straight to a DN built from the username, e.g. `uid={username},ou=people,dc=example,dc=org`
     * (the username is DN-escaped, RFC 4514). For directories where users are in one place.
     */
    bindDnTemplate: z
      .string()
      .refine((t) => t.split('{username}').length === 2, 'must contain {username} once')
      .refine((t) => /^\s*[A-Za-z][A-Za-z0-9-]*\s*=\s*\{username\}\s*,/.test(t), 'must start with the RDN, e.g. uid={username},...')
      .optional(),
    /**
     * Entries matching this are treated as disabled: they cannot sign in and revalidation disables
     * their Tessera user. E.g. `(pwdAccountLockedTime=*)` (OpenLDAP ppolicy). Active Directory's
     * `userAccountControl` disabled bit (2) is always honoured, no filter needed.
     */
    disabledFilter: ldapFilter.optional(),
    attributes: attributes.default({ displayName: 'cn', email: 'mail' }),
    /** Where groups come from. Leave out for no groups. */
    groups: groups.optional(),
    roleMapping: roleMappingSchema.optional(),
    /** Only members of this group may sign in; leaving it disables the Tessera user at revalidation. */
    requireGroup: z.string().min(1).optional(),
    /** TCP (and TLS handshake) timeout. A dead directory answers 503 after this. Default 2s. */
    connectTimeout: duration('2s'),
    /** Timeout of each LDAP operation (bind, search). A hung directory answers 503 after this. Default 5s. */
    timeout: duration('5s'),
    /**
     * How often each gateway re-checks this source's Tessera users against the directory and
     * disables those deleted, disabled or out of `requireGroup` (their tokens stop working at
     * once), re-enabling those that are back. One search per user per round; 0 turns it off.
     * Default 15m.
     */
    revalidateInterval: duration('15m'),
  })
  .superRefine((c, ctx) => {
    const problem = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
    if (Boolean(c.userSearch) === Boolean(c.bindDnTemplate)) problem('give exactly one of userSearch, bindDnTemplate');
    if (Boolean(c.bindDn) !== Boolean(c.bindPassword)) problem('bindDn and bindPassword go together', ['bindPassword']);
    const ldaps = /^ldaps:/i.test(c.url);
    if (ldaps && c.startTls) problem('startTls is for ldap:// URLs; ldaps:// is TLS already', ['startTls']);
    if (!ldaps && !c.startTls && !c.insecureNoTls) {
      problem('ldap:// without TLS sends passwords in clear: use ldaps://, startTls: true, or say insecureNoTls: true', ['url']);
    }
    if ((c.roleMapping || c.requireGroup) && !c.groups) problem('roleMapping and requireGroup need groups', ['groups']);
    if (c.bindDnTemplate && !c.bindDn && c.revalidateInterval > 0) {
      // Revalidation has no user password to bind with; anonymous reads would find nobody and
      // disable everyone.
      problem('revalidation reads with the service account: set bindDn, or revalidateInterval: 0', ['revalidateInterval']);
    }
  });

/** Validates the whole list; ids must be unique, as users and `source` refer to them. */
export const ldapSourcesSchema = sourceListSchema(ldapSourceSchema);

export type LdapSourceConfig = z.output<typeof ldapSourceSchema>;
