/**
 * Identity sources, split by capability in the manner of Dex's connectors: a source implements
 * only what it can. Local users and LDAP check a password (`PasswordSource`); SAML redirects the
 * browser (`RedirectSource`). Every source yields the same `Identity`, which
 * `UserService.upsertExternal` turns into a Tessera user.
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
