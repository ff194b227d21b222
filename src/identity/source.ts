/**
 * Identity sources, split by capability in the manner of Dex's connectors: a source implements
 * only what it can. Local users and LDAP check a password (`PasswordSource`); SAML redirects the
 * browser (`RedirectSource`, added with the SAML source). Every source yields the same `Identity`,
 * which `UserService.upsertExternal` turns into a Tessera user.
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
