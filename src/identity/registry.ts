/**
 * How each kind of configured source is opened (the config side is source-kinds.ts), as Dex's
 * `server/connector.go` maps a connector type to its constructor. Everything past this file
 * (the sign-in page's buttons, the redirect routes, login, re-validation, start-up and shutdown)
 * takes sources by capability, never by kind.
 */
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { SealedSecrets } from '../oauth/sealed-secrets.js';
import type { Store } from '../store/store.js';
import { LdapSource } from './ldap/ldap-source.js';
import { OidcSource } from './oidc/oidc-source.js';
import type { RedirectSignIns } from './redirect-sign-ins.js';
import { SamlSource } from './saml/saml-source.js';
import { SOURCE_KINDS, type SourceConfigOf, type SourceKind } from './source-kinds.js';
import { isPasswordSource, isRedirectSource, type IdentitySource, type PasswordSource, type RedirectSource } from './source.js';
import type { UserService } from './users.js';

export interface SourceDeps {
  config: TesseraConfig;
  users: UserService;
  store: Store;
  clock: Clock;
  logger: Logger;
  signIns: RedirectSignIns;
  /** Seals secrets a source keeps in the store (upstream refresh tokens) with the KEK. */
  secrets: SealedSecrets;
}

type Opener<K extends SourceKind> = (config: SourceConfigOf<K>, deps: SourceDeps) => IdentitySource;

const OPENERS: { [K in SourceKind]: Opener<K> } = {
  ldap: (c, d) => new LdapSource(c, d),
  saml: (c, d) => new SamlSource(c, { store: d.store, clock: d.clock, signIns: d.signIns, issuer: d.config.server.issuer!, limits: d.config.samlLimits, logger: d.logger }),
  openidConnect: (c, d) => new OidcSource(c, { store: d.store, clock: d.clock, users: d.users, issuer: d.config.server.issuer!, secrets: d.secrets, logger: d.logger }),
};

export interface OpenedSources {
  /** Every configured source, kind by kind in registry order, each kind in config order. */
  all: IdentitySource[];
  /** The same, each with its kind (for metrics labels). */
  kinds: { kind: SourceKind; source: IdentitySource }[];
  /** Those that check a password, in that order (after the built-in local source). */
  password: PasswordSource[];
  /** Those that send the browser elsewhere: one sign-in button each. */
  redirect: RedirectSource[];
}

export function openSources(deps: SourceDeps): OpenedSources {
  const open = <K extends SourceKind>(kind: K) => (deps.config[kind] as SourceConfigOf<K>[]).map((c) => ({ kind, source: OPENERS[kind](c, deps) }));
  const kinds = SOURCE_KINDS.flatMap((kind) => open(kind));
  const all = kinds.map(({ source }) => source);
  return { all, kinds, password: all.filter(isPasswordSource), redirect: all.filter(isRedirectSource) };
}
