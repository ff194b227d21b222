/**
 * The kinds of configured identity source and the config list of each, keyed by the config
 * section that lists them (`ldap:`, `saml:`, `openidConnect:`). config/schema.ts composes these
 * lists; registry.ts says how each kind is opened. A new kind is a folder under identity/, one
 * line here, one in registry.ts, and its docs page.
 */
import type { z } from 'zod';
import { ldapSourcesSchema } from './ldap/config.js';
import { oidcSourcesSchema } from './oidc/config.js';
import { samlSourcesSchema } from './saml/config.js';

export const sourceConfigs = {
  /** LDAP directories users sign in with, tried in this order after built-in accounts (docs/ldap.md). */
  ldap: ldapSourcesSchema,
  /** SAML 2.0 identity providers (Okta, ...), one sign-in button each (docs/saml-okta.md). */
  saml: samlSourcesSchema,
  /** Upstream OpenID Providers (Entra ID, Google, Keycloak, ...), one sign-in button each (docs/oidc-upstream.md). */
  openidConnect: oidcSourcesSchema,
};

export type SourceKind = keyof typeof sourceConfigs;
export type SourceConfigOf<K extends SourceKind> = z.output<(typeof sourceConfigs)[K]>[number];
export const SOURCE_KINDS = Object.keys(sourceConfigs) as SourceKind[];
const KIND_NAMES: Record<SourceKind, string> = { ldap: 'an LDAP', saml: 'a SAML', openidConnect: 'an OpenID Connect' };

/**
 * A user's `source` names one configured source, so an id may be used once across all kinds
 * (within one kind, `sourceListSchema` already says so).
 */
export function checkSourceIdsUnique(config: { [K in SourceKind]: { id: string }[] }, ctx: z.RefinementCtx): void {
  const owner = new Map<string, SourceKind>();
  for (const kind of SOURCE_KINDS) {
    config[kind].forEach((source, i) => {
      const first = owner.get(source.id);
      if (first && first !== kind) ctx.addIssue({ code: 'custom', message: `source id ${source.id} is also ${KIND_NAMES[first]} source's`, path: [kind, i, 'id'] });
      else owner.set(source.id, kind);
    });
  }
}

/** The kind of the configured source with this id; undefined for built-in accounts or an id no longer configured. */
export function sourceKindOf(config: { [K in SourceKind]: { id: string }[] }, id: string): SourceKind | undefined {
  return SOURCE_KINDS.find((kind) => config[kind].some((source) => source.id === id));
}
