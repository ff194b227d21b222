/**
 * From verified claims (the ID token's, merged with userinfo's when configured) to an
 * `Identity`, after the source's admission rules: required claims, then allowed domains. Every
 * refusal is a `Forbidden` naming the rule, never a claim value beyond the domain.
 */
import { Forbidden } from '../../errors.js';
import { roleFor } from '../role-mapping.js';
import type { Identity } from '../source.js';
import { validUsername } from '../users.js';
import type { OidcSourceConfig } from './config.js';

export type Claims = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** A groups claim is a list of strings (Keycloak, Okta, Entra) or, from some providers, one string. */
function groupsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return [...new Set(list.map(text).filter((g): g is string => g !== undefined))];
}

function domainOf(config: OidcSourceConfig, claims: Claims): string | undefined {
  if (config.domainClaim === 'hd') return text(claims.hd)?.toLowerCase();
  const email = text(claims.email);
  // An unverified address says nothing about who the account belongs to.
  if (!email || claims.email_verified !== true) return undefined;
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase() || undefined;
}

function admit(config: OidcSourceConfig, claims: Claims): void {
  for (const [name, expected] of Object.entries(config.requiredClaims)) {
    if (claims[name] !== expected) throw new Forbidden(`${config.displayName} did not vouch for this account: the ${name} claim is missing or not the required value`);
  }
  if (config.allowedDomains) {
    const domain = domainOf(config, claims);
    if (!domain) throw new Forbidden(`${config.displayName} sent no ${config.domainClaim === 'hd' ? 'hosted domain (hd)' : 'verified e-mail address'}, so the account's domain cannot be checked`);
    if (!config.allowedDomains.includes(domain)) throw new Forbidden(`accounts of ${domain} may not sign in here`);
  }
}

export function identityFromClaims(config: OidcSourceConfig, claims: Claims): Identity {
  admit(config, claims);
  const names = config.claims;
  const username = text(claims[names.username]);
  if (!username) throw new Forbidden(`${config.displayName} sent no ${names.username} claim for the username`);
  if (!validUsername(username)) throw new Forbidden(`the username ${config.displayName} sent is not a valid Tessera username (letters, digits and . _ @ + -)`);
  const groups = groupsOf(claims[names.groups]);
  return {
    source: config.id,
    username,
    displayName: text(claims[names.displayName]) ?? username,
    email: text(claims[names.email]) ?? '',
    groups,
    role: roleFor(groups, config.roleMapping),
  };
}
