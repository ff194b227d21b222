/**
 * Audit actors and targets from the service layer's own types, so every emitter names people
 * and credentials the same way.
 */
import type { UserRecord } from '../store/records.js';
import type { Principal } from '../tokens/principal.js';
import type { AuditActor, AuditTarget } from './event.js';

/** The caller as an audit actor: the user and the credential they used. */
export function actorOf(principal: Principal): AuditActor {
  return {
    credential: principal.via,
    userId: principal.user.id,
    username: principal.user.username,
    ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
  };
}

export const userTarget = (user: Pick<UserRecord, 'id' | 'username'>): AuditTarget => ({ userId: user.id, username: user.username });

