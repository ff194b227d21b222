/**
 * An upstream OpenID Provider people sign in with (Entra ID, Google, Keycloak, GitLab, Okta):
 * one entry of `openidConnect:`, one sign-in button. Example (docs/oidc-upstream.md has more):
 *
 *   openidConnect:
 *     - id: keycloak
 *       displayName: Keycloak
 *       issuer: https://sso.example.org/realms/staff
 *       clientId: tessera
 *       clientSecret: ${KEYCLOAK_CLIENT_SECRET}
 *       claims: { groups: groups }
 *       roleMapping: { admin: [tessera-admins] }
 *
 * Register `<server.issuer>/sso/<id>/callback` as the redirect URI at the provider.
 */
import { z } from 'zod';
import { durationField } from '../../config/duration.js';
import { roleMappingSchema } from '../role-mapping.js';
import { sourceIdSchema, sourceListSchema } from '../source-id.js';

const httpsOrLoopback = z
  .url()
  .refine((u) => /^https:\/\//i.test(u) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i.test(u), {
    // Whoever can change discovery or the JWKS in transit picks the keys Tessera trusts.
    message: 'must be https:// (plain http only for a loopback address)',
  });

const claims = z.strictObject({
  /** The Tessera username. Default `preferred_username` (Entra ID: `upn` or `email`; Google: `email`). */
  username: z.string().min(1).default('preferred_username'),
  /** Display name. Default `name`; the username when the provider sends none. */
  displayName: z.string().min(1).default('name'),
  /** E-mail address. Default `email`. */
  email: z.string().min(1).default('email'),
  /**
   * Groups: a claim holding a list of strings (or one string). Default `groups` (Keycloak's group
   * mapper, Okta; Entra ID sends group object ids there, or app roles under `roles`).
   */
  groups: z.string().min(1).default('groups'),
});

export const oidcSourceSchema = z
  .strictObject({
    /** Source id: stored on each user (`source`) and part of the callback URL. Lower case, not `local`. */
    id: sourceIdSchema,
    /** The button says "Sign in with <displayName>". */
    displayName: z.string().min(1),
    /**
     * The provider's issuer; its `/.well-known/openid-configuration` is read at start-up (and
     * retried at sign-in while unreachable). ID tokens must name exactly this issuer.
     */
    issuer: httpsOrLoopback,
    /** The client registered at the provider for this gateway. */
    clientId: z.string().min(1),
    /** Its secret (`client_secret_basic`). Leave out for a public client (PKCE only). */
    clientSecret: z.string().min(1).optional(),
    /**
     * Scopes asked for. `openid` is always added. Add `offline_access` (or, for Google,
     * `refreshTokens`) so the provider issues a refresh token, which re-validation needs.
     */
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is one word')).default(['openid', 'profile', 'email']),
    /** Which claim carries what. */
    claims: claims.default(claims.parse({})),
    /**
     * Also read the userinfo endpoint and merge its claims over the ID token's (providers that
     * keep groups or e-mail out of the ID token). Its `sub` must equal the ID token's.
     */
    userinfo: z.boolean().default(false),
    /**
     * Only accounts of these domains may sign in (read as `domainClaim` says; compared
     * case-insensitively). Leave out to accept every account the provider signs in (then
     * restrict at the provider).
     */
    allowedDomains: z.array(z.string().min(1).toLowerCase()).min(1).optional(),
    /**
     * Claims the ID token (with userinfo, if read) must carry with exactly these values, e.g.
     * `{ tid: <Entra tenant id> }` for a multi-tenant app, `{ email_verified: true }`.
     */
    requiredClaims: z.record(z.string().min(1), z.union([z.string(), z.boolean(), z.number()])).default({}),
    /** Groups → roles (group names compare case-insensitively, as for every source). */
    roleMapping: roleMappingSchema.optional(),
    /**
     * How often each user of this source is checked again with the refresh token the provider
     * issued (see `scopes`): a user removed or disabled upstream is disabled in Tessera (their
     * tokens stop working) within this interval; groups and role are refreshed. 0 turns it off.
     * Users without a refresh token are left as they are until their next sign-in.
     */
    revalidateInterval: durationField('15m'),
    /**
     * Where `allowedDomains` reads the domain: `email` (default) the domain of the `email` claim,
     * which must come with `email_verified: true`; `hd` only Google Workspace's hosted-domain claim
     * (use it with Google: a consumer Google account can carry a verified address of any domain).
     */
    domainClaim: z.enum(['email', 'hd']).default('email'),
    /** Tolerated clock difference with the provider for `iat`/`exp`. */
    clockSkew: durationField('60s'),
  })
  .transform((c) => ({ ...c, scopes: [...new Set(['openid', ...c.scopes])] }));

export type OidcSourceConfig = z.output<typeof oidcSourceSchema>;

export const oidcSourcesSchema = sourceListSchema(oidcSourceSchema);
