/**
 * What a `config.loaded` event says about the configuration: its shape (which sources, clients
 * and limits are in force), never its values that could be secrets (client secrets, bind
 * passwords, keys, Redis URLs with credentials).
 */
import type { TesseraConfig } from '../config/schema.js';
import type { AuditDetails } from './event.js';

export function configFacts(config: TesseraConfig): AuditDetails {
  return {
    issuer: config.server.issuer ?? null,
    store: config.store.redisUrl || config.store.clusterNodes?.length || config.store.sentinel ? 'redis' : 'memory',
    ldapSources: config.ldap.map((s) => s.id),
    samlSources: config.saml.map((s) => s.id),
    openidConnectSources: config.openidConnect.map((s) => s.id),
    clients: config.clients.map((c) => c.id),
    passwordApiLogin: config.auth.passwordApiLogin,
    auditRetentionDays: Math.round(config.audit.retention / 86_400_000),
  };
}
