/**
 * From the one event model (the audit trail) to signals: which stored outcomes tell a receiver
 * that trust changed, as CAEP 1.0 / RISC events. A signal is named (SIGNAL_NAMES) and carries its
 * subject by id; set.ts turns it into a Security Event Token, webhooks.ts into a JSON payload.
 *
 * Only `succeeded` outcomes count: an `attempted` entry may describe a change that never
 * happened, and a failed one changed nothing.
 */
import type { AuditEvent } from '../audit/event.js';
import type { SignalName } from './config.js';

export const EVENT_URIS: Record<SignalName, string> = {
  'session-revoked': 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  'credential-change': 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  'token-claims-change': 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change',
  'account-disabled': 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  'account-enabled': 'https://schemas.openid.net/secevent/risc/event-type/account-enabled',
  'account-purged': 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  // Not a CAEP event: only webhooks carry it (a notice, not a change of trust).
  'token-expiring': 'https://tessera.dev/events/token-expiring',
};

export const VERIFICATION_URI = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

export interface SignalSubject {
  userId: string;
  username?: string;
  /** A PAT: a receiver that caches introspection answers drops exactly this entry. */
  tokenId?: string;
  /** A login session (logout, refresh-token reuse). */
  sessionId?: string;
}

export interface Signal {
  /** Unique per (audit event, signal): the SET's `jti` and the webhook id, so a retry is recognised. */
  id: string;
  name: SignalName;
  /** The audit event's id: the SET's `txn` (one action, several events share it). */
  txn: string;
  /** When it happened, ms. */
  time: number;
  subject: SignalSubject;
  /** The CAEP/RISC event members besides `event_timestamp`. */
  fields: Record<string, unknown>;
}

/** CAEP leaves `credential_type` open to values transmitter and receiver agree on; this is a PAT. */
const PAT_CREDENTIAL = 'personal-access-token';

const revokedSession = { initiating_entity: 'policy' };

function fieldsOf(event: AuditEvent): Array<[SignalName, Record<string, unknown>, Partial<SignalSubject>?]> {
  const details = event.details ?? {};
  const fields = Array.isArray(details.fields) ? details.fields : [];
  const byAdmin = event.actor.userId !== undefined && event.actor.userId !== event.target?.userId;
  const initiating_entity = event.actor.credential === 'system' ? 'system' : byAdmin ? 'admin' : 'user';
  switch (event.type) {
    case 'token.created':
      return [['credential-change', { credential_type: PAT_CREDENTIAL, change_type: 'create', initiating_entity }]];
    case 'token.revoked':
    case 'token.evicted':
    case 'token.leak_reported':
      return event.target?.tokenId ? [['credential-change', { credential_type: PAT_CREDENTIAL, change_type: 'revoke', initiating_entity: event.type === 'token.revoked' ? initiating_entity : 'policy' }]] : [['session-revoked', revokedSession]];
    case 'token.revoked_all_of_user':
      return [
        ['session-revoked', { initiating_entity }],
        ['credential-change', { credential_type: PAT_CREDENTIAL, change_type: 'revoke', initiating_entity }],
      ];
    case 'logout':
      return [['session-revoked', { initiating_entity }, { sessionId: typeof details.sessionId === 'string' ? details.sessionId : undefined }]];
    case 'session.refresh_reused':
    case 'oidc.grant_revoked':
      return [['session-revoked', { initiating_entity: event.type === 'oidc.grant_revoked' ? initiating_entity : 'policy' }]];
    case 'user.password_reset':
      return [['credential-change', { credential_type: 'password', change_type: 'update', initiating_entity }]];
    case 'user.disabled':
    case 'user.disabled_by_revalidation':
      return [['account-disabled', { reason: event.type === 'user.disabled' ? 'admin' : 'directory' }]];
    case 'user.changed': {
      const out: Array<[SignalName, Record<string, unknown>]> = [];
      if (fields.includes('enabled')) out.push(['account-enabled', {}]);
      const claims: Record<string, unknown> = {};
      if (fields.includes('role') && typeof details.role === 'string') claims.role = details.role;
      if (fields.includes('groups')) claims.groups_changed = true;
      if (Object.keys(claims).length) out.push(['token-claims-change', { claims }]);
      return out;
    }
    case 'user.deleted':
      return [['account-purged', {}]];
    default:
      return [];
  }
}

/**
 * The signals an audit outcome raises (none for most). `user.changed` with `enabled` is only a
 * candidate for account-enabled: the subscriber checks that the account is enabled now.
 */
export function signalsOf(event: AuditEvent): Signal[] {
  if (event.outcome !== 'succeeded' || !event.target?.userId) return [];
  const time = Date.parse(event.time);
  return fieldsOf(event).map(([name, fields, extra], i) => ({
    id: `${event.id}.${i}`,
    name,
    txn: event.id,
    time,
    subject: {
      userId: event.target!.userId!,
      ...(event.target!.username ? { username: event.target!.username } : {}),
      ...(event.target!.tokenId ? { tokenId: event.target!.tokenId } : {}),
      ...(extra?.sessionId ? { sessionId: extra.sessionId } : {}),
    },
    fields,
  }));
}
