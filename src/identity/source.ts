/**
 * Identity sources, split by capability in the manner of Dex's connectors: a source implements
 * only what it can. Local users and LDAP check a password (`PasswordSource`); SAML and upstream
 * OpenID Providers redirect the browser (`RedirectSource`); LDAP and OpenID Connect can look a
 * known user up again (`RevalidatingSource`). Every source yields the same `Identity`, which
 * `UserService.upsertExternal` turns into a Tessera user. Which kinds exist, and how each is
 * configured and opened, is said once in registry.ts.
 */
import type { Role } from '../store/records.js';

export interface Identity {
  /** Source id (`local`, or the configured id of an LDAP/SAML source). */
  source: string;
  username: string;
  displayName: string;
  email: string;
  groups: string[];
  /** Role the source's group mapping gives; undefined keeps what Tessera has. */
  role?: Role;
}

export interface PasswordSource {
  readonly id: string;
  readonly displayName: string;
  /**
   * The identity for a correct username/password, or null for a wrong one. Unknown users and
   * wrong passwords are indistinguishable to the caller. Throws `TemporarilyUnavailable` when
   * the backing directory cannot be reached.
   */
  authenticate(username: string, password: string): Promise<Identity | null>;
}

/**
 * A source that signs people in by sending the browser to an identity provider and receiving its
 * answer back (Dex's `SAMLConnector`). The caller keeps the pending request (its id and where
 * to go afterwards) under an opaque `relayState` that travels with the browser.
 */
export interface RedirectSource {
  readonly id: string;
  readonly displayName: string;
  /**
   * Where the sign-in pages send the browser to begin (`?return=/path` or `?interaction=<uid>` is
   * appended): `/sso/<id>/login` for kinds served by the generic redirect routes, `/saml/<id>/login`
   * for SAML, whose URLs IdP administrators already have.
   */
  readonly startPath: string;
  /** Where to send the browser, and the id of the request the IdP's answer must name. */
  signInRedirect(relayState: string): Promise<{ url: string; requestId: string }>;
  /**
   * Verifies the answer the IdP posted back (the form fields) and returns who signed in.
   * `requestId`: the request it must answer, or null for an answer nobody asked for
   * (IdP-initiated), which only sources that allow it accept. Throws `Forbidden` naming the rule
   * the answer breaks, `TemporarilyUnavailable` when it cannot be checked now.
   */
  verifyResponse(form: Record<string, unknown>, requestId: string | null): Promise<Identity>;
}

/**
 * A source that can say again whether a known user may still sign in, without the user (Dex's
 * `RefreshConnector`): LDAP asks the directory with its service account, OpenID Connect redeems
 * the refresh token the upstream issued. `SourceRevalidator` (revalidator.ts) calls it every
 * `revalidateInterval` for each of the source's users.
 */
export interface RevalidatingSource {
  readonly id: string;
  /** How often to look every user up again; 0 turns it off. */
  readonly revalidateIntervalMs: number;
  /**
   * The current identity; null when the user may no longer sign in; `'unknown'` when this source
   * has nothing to ask with for this user (no refresh token), which changes nothing. Throws
   * `TemporarilyUnavailable` when the upstream cannot be reached.
   */
  lookup(username: string): Promise<Identity | null | 'unknown'>;
  /** Throws `TemporarilyUnavailable` when the upstream cannot be reached (the round then waits). */
  check(): Promise<void>;
}

/**
 * What the composition root does with every source, whatever its kind: `load` before the
 * gateway listens (SAML metadata, OpenID discovery; a source that cannot load logs and answers
 * 503 until it can), `start` once it listens (background re-validation), `close` at shutdown.
 */
export interface SourceLifecycle {
  load?(): Promise<void>;
  start?(): void;
  close?(): Promise<void>;
  /**
   * For `tessera_identity_source_up`: whether the upstream answered last time (LDAP) or its
   * metadata / discovery document is loaded (SAML, OpenID Connect); undefined before anyone asked.
   */
  up?(): boolean | undefined;
}

/** Any configured source: it meets at least one of the capability interfaces above. */
export type IdentitySource = { readonly id: string; readonly displayName: string } & SourceLifecycle & Partial<PasswordSource & RedirectSource & RevalidatingSource>;

export const isPasswordSource = (s: IdentitySource): s is IdentitySource & PasswordSource => typeof s.authenticate === 'function';
export const isRedirectSource = (s: IdentitySource): s is IdentitySource & RedirectSource => typeof s.signInRedirect === 'function';
