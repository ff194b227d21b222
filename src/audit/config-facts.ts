/**
 * What a `config.loaded` event says about the configuration: its shape (which sources, clients
 * and limits are in force), never its values that could be secrets (client secrets, bind
 * passwords, keys, Redis URLs with credentials).
 */
import type { TesseraConfig } from '../config/schema.js';
import { SOURCE_KINDS } from '../identity/source-kinds.js';
import type { AuditDetails } from './event.js';

export function configFacts(config: TesseraConfig): AuditDetails {
  return {
    issuer: config.server.issuer ?? null,
    store: config.store.redisUrl || config.store.clusterNodes?.length || config.store.sentinel ? 'redis' : 'memory',
    // ldapSources, samlSources, openidConnectSources: one list of ids per kind of source.
    ...Object.fromEntries(SOURCE_KINDS.map((kind) => [`${kind}Sources`, config[kind].map((s) => s.id)])),
    clients: config.clients.map((c) => c.id),
    passwordApiLogin: config.auth.passwordApiLogin,
    auditRetentionDays: Math.round(config.audit.retention / 86_400_000),
  };
}
