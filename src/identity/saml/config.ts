/**
 * Options of one SAML 2.0 identity source (`saml:` in the config, a list: several IdPs may be
 * configured, each with a button on the sign-in pages). Modelled on Dex's SAML connector; Okta is
 * the first IdP it is documented for (docs/saml-okta.md).
 *
 * ```yaml
 * saml:
 *   - id: okta                       # users of this source get source "okta"
 *     displayName: Okta              # the button says "Sign in with Okta"
 *     idpMetadataUrl: https://example.okta.com/app/exk1a2b3c4/sso/saml/metadata
 *     attributes:
 *       email: email
 *       displayName: displayName
 *       groups: groups
 *     roleMapping:
 *       admin: [tessera-admins]
 * ```
 *
 * The gateway's side (the "SP") needs nothing else: its entity ID, ACS URL and metadata derive
 * from `server.issuer` and the source id, and `GET /saml/<id>/metadata` serves them to the IdP's
 * administrator.
 */
import { roleMappingSchema } from '../role-mapping.js';
import { z } from 'zod';
import { sourceIdSchema, sourceListSchema } from '../source-id.js';
import { durationField as duration } from '../../config/duration.js';

const pem = (label: string) => z.string().includes(`-----BEGIN `, { message: `must be PEM (-----BEGIN ${label}-----)` });

/** The NameID formats of SAML core §8.3, by their short names; a full URN is taken as it is. */
export const NAME_ID_FORMATS = {
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
} as const;

const nameIdFormat = z
  .string()
  .default('emailAddress')
  .transform((value, ctx) => {
    if (value in NAME_ID_FORMATS) return NAME_ID_FORMATS[value as keyof typeof NAME_ID_FORMATS];
    if (value.startsWith('urn:')) return value;
    ctx.addIssue({ code: 'custom', message: `one of ${Object.keys(NAME_ID_FORMATS).join(', ')}, or a urn:` });
    return z.NEVER;
  });

const attributes = z.strictObject({
  /**
   * Attribute whose value is the Tessera username. Default: none, the NameID is the username
   * (Okta: "Application username", usually the Okta username, an e-mail address). A transient
   * NameID changes at every sign-in, so with `nameIdFormat: transient` this must be set.
   */
  username: z.string().min(1).optional(),
  /** E-mail address. Default `email`. */
  email: z.string().min(1).default('email'),
  /** Display name. Default `displayName`; the username when the IdP sends none. */
  displayName: z.string().min(1).default('displayName'),
  /** Groups, one AttributeValue each (Okta: a group attribute statement). Default `groups`. */
  groups: z.string().min(1).default('groups'),
});


const httpsOrLoopback = z
  .url()
  .refine((u) => /^https:\/\//i.test(u) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//i.test(u), {
    // Whoever can change the metadata in transit picks the certificate Tessera trusts.
    message: 'must be https:// (plain http only for a loopback address)',
  });

export const samlSourceSchema = z
  .strictObject({
    /**
     * Source id: stored on each user (`source`), part of every SAML URL (`/saml/<id>/acs`).
     * Lower case, not `local`, and unlike any LDAP source's id. Changing it later orphans the
     * users it created and changes the URLs the IdP knows.
     */
    id: sourceIdSchema,
    /** The IdP's name on the sign-in button: "Sign in with <displayName>". */
    displayName: z.string().min(1),

    /**
     * The IdP's metadata (its entity ID, sign-in URL and signing certificate). Give exactly one:
     * `idpMetadataUrl` is fetched at start-up and kept in the store, so a restart while the IdP
     * is down uses the last copy; it is fetched again when that copy is older than
     * `idpMetadataMaxAge`, which picks up certificate rotations.
     */
    idpMetadataUrl: httpsOrLoopback.optional(),
    /** A file holding the metadata XML. */
    idpMetadataFile: z.string().min(1).optional(),
    /** The metadata XML itself, e.g. from `${OKTA_METADATA}`. */
    idpMetadata: z.string().includes('EntityDescriptor', { message: 'must be SAML metadata XML (an EntityDescriptor)' }).optional(),
    /** Timeout of the metadata fetch. Default 10s. */
    idpMetadataTimeout: duration('10s'),
    /** Age after which a fetched copy is refreshed (in the background, at a sign-in). Default 24h. */
    idpMetadataMaxAge: duration('24h'),

    /** This gateway's SAML entity ID ("Audience URI" in Okta). Default `<issuer>/saml/<id>/metadata`. */
    spEntityId: z.string().min(1).optional(),
    /**
     * Key and certificate (PEM, inline or file) this gateway signs its AuthnRequests with. Needed
     * only when the IdP's metadata says `WantAuthnRequestsSigned="true"` (Okta: "Signed
     * requests"); the certificate is then published in the SP metadata.
     */
    signingKey: pem('PRIVATE KEY').optional(),
    signingKeyFile: z.string().min(1).optional(),
    signingCert: pem('CERTIFICATE').optional(),
    signingCertFile: z.string().min(1).optional(),
    /**
     * Key and certificate (PEM) for encrypted assertions (Okta: "Assertion Encryption", upload
     * the certificate there). When set, every assertion must arrive encrypted.
     */
    encryptionKey: pem('PRIVATE KEY').optional(),
    encryptionKeyFile: z.string().min(1).optional(),
    encryptionCert: pem('CERTIFICATE').optional(),
    encryptionCertFile: z.string().min(1).optional(),

    /** NameID format asked for: `emailAddress` (default), `unspecified`, `persistent`, `transient`, or a URN. */
    nameIdFormat,
    /** Which attributes of the assertion fill the Tessera user. */
    attributes: attributes.default({ email: 'email', displayName: 'displayName', groups: 'groups' }),
    roleMapping: roleMappingSchema.optional(),
    /**
     * Clock difference tolerated against the IdP for NotBefore / NotOnOrAfter. Default 3m (180s):
     * enough for unsynchronised clocks, short against replays of a captured assertion.
     */
    clockSkew: duration('180s'),
    /**
     * Accept responses the IdP sends unasked (started from the Okta dashboard tile). Off by
     * default: such a response answers no request of this browser, so an attacker can sign a
     * victim into the attacker's account (login CSRF). Turn on only if people need the tile.
     */
    allowIdpInitiated: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const problem = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
    const given = [c.idpMetadataUrl, c.idpMetadataFile, c.idpMetadata].filter(Boolean).length;
    if (given !== 1) problem('give exactly one of idpMetadataUrl, idpMetadataFile, idpMetadata');
    for (const [name, inline, file] of [
      ['signingKey', c.signingKey, c.signingKeyFile],
      ['signingCert', c.signingCert, c.signingCertFile],
      ['encryptionKey', c.encryptionKey, c.encryptionKeyFile],
      ['encryptionCert', c.encryptionCert, c.encryptionCertFile],
    ] as const) {
      if (inline && file) problem(`give one of ${name}, ${name}File`, [name]);
    }
    const has = (inline?: string, file?: string) => Boolean(inline || file);
    if (has(c.signingKey, c.signingKeyFile) !== has(c.signingCert, c.signingCertFile)) problem('the signing key and certificate go together', ['signingCert']);
    if (has(c.encryptionKey, c.encryptionKeyFile) !== has(c.encryptionCert, c.encryptionCertFile)) {
      problem('the encryption key and certificate go together', ['encryptionCert']);
    }
    if (c.nameIdFormat === NAME_ID_FORMATS.transient && !c.attributes.username) {
      problem('a transient NameID changes at every sign-in: set attributes.username', ['attributes', 'username']);
    }
  });

/** Validates the whole list; ids must be unique, as users and URLs refer to them. */
export const samlSourcesSchema = sourceListSchema(samlSourceSchema);

export type SamlSourceConfig = z.output<typeof samlSourceSchema>;

/**
 * How much work an unauthenticated POST to an ACS may cause (`samlLimits:`, shared by every SAML
 * source of the gateway). Anyone can post a SAML response, and checking one means parsing XML
 * and computing a digest per signature Reference before anything says whether it came from the
 * IdP: a crafted 50 KB response with many References once held a CPU for seconds. So a response
 * must first pass a cheap scan against these limits (on the request path, linear in its size),
 * and only then is it parsed, schema-checked, decrypted and verified, in a pool of worker threads
 * with a time budget per response and a bounded queue, so the event loop that answers
 * introspection and forward auth never waits on XML.
 *
 * ```yaml
 * samlLimits:
 *   maxResponseBytes: 262144
 *   workers: 2
 *   responseBudget: 5s
 *   queue: 16
 * ```
 */
export const samlLimitsSchema = z.strictObject({
  /**
   * Largest SAML response accepted, in bytes of XML (the posted form is base64, a third larger,
   * and `server.bodyLimitBytes` applies to it first). Default 256 KiB: an Okta response with a
   * few hundred groups is well under 100 KiB.
   */
  maxResponseBytes: z.number().int().min(4096).max(4 * 1024 * 1024).default(256 * 1024),
  /**
   * Most XML elements in a response (before and after decryption). Default 3000: a response
   * needs about 40, plus one per group value.
   */
  maxElements: z.number().int().min(100).max(100_000).default(3000),
  /** Deepest element nesting. Default 24: a SAML response nests about 10 deep. */
  maxDepth: z.number().int().min(12).max(256).default(24),
  /**
   * Worker threads checking responses. Default 2. Each keeps a compiled schema validator of
   * about 150 MB; one response takes tens of milliseconds, so two serve dozens of sign-ins a second.
   */
  workers: z.number().int().min(1).max(32).default(2),
  /**
   * Time a response may take from arrival to verdict, waiting included. Past it the response is
   * refused with 503 and, if it is being checked, its worker is stopped and replaced, so it
   * cannot keep burning CPU. Default 5s.
   */
  responseBudget: duration('5s').refine((ms) => ms >= 10, 'at least 10ms'),
  /**
   * Responses that may wait for a worker. A response arriving at a full queue is refused at once
   * with 503 `temporarily_unavailable`: nothing else waits behind a flood. Default 16.
   */
  queue: z.number().int().min(0).max(10_000).default(16),
  /**
   * For SAML sources only, instead of `auth.redirectSignIns.perIpPerMinute` (which applies to
   * every redirect source, SAML included, when this is unset): sign-in starts and responses one
   * client address may make per minute at one source. Kept so configurations that set it keep
   * their meaning.
   */
  perIpPerMinute: z.number().int().min(1).max(100_000).optional(),
});

export type SamlLimits = z.output<typeof samlLimitsSchema>;
