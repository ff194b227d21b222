/**
 * Reports of leaked Tessera tokens: GitHub secret scanning (its partner program's signed POST)
 * and admins passing on reports from elsewhere. Every reported token that is Tessera's is revoked
 * at once, whoever owns it, with the reporter and the place it was found as its `revokedBy`, so
 * the owner's token list says why it died. A report is never an error for an unknown, revoked or
 * malformed token: it is labelled a false positive (or a true positive already dealt with).
 */
import type { AuditTrail } from '../audit/trail.js';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.js';
import { Unauthorized } from '../errors.js';
import type { Store, TokenRecord } from '../store/store.js';
import { eachToken } from '../store/walks.js';
import { hashSecret as hashOf, parseSecret } from '../tokens/format.js';
import type { PatService } from '../tokens/pat-service.js';
import type { SessionService } from '../tokens/login-sessions.js';
import type { LeakReportsConfig } from './config.js';

/** The part of the store this uses: the reported token's record or login. */
export type LeakReportStore = Pick<Store, 'findSessionByRefresh' | 'findTokenIdByHash' | 'getToken' | 'listTokenPage'>;

export interface LeakReport {
  token: string;
  /** Where it was found (a URL), shown in the revocation. */
  url?: string;
  /** GitHub: `content`, `commit`, `pull_request`, ...; free text for other reporters. */
  source?: string;
}

export interface LeakVerdict {
  /** SHA-256 (hex) of the reported token, GitHub's `token_hash`: the answer never echoes a secret. */
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

export interface LeakOutcome {
  verdict: LeakVerdict;
  /** Id of the PAT revoked now, if it was active. */
  revoked?: string;
}

/** Text from a report is the reporter's: one line, printable, bounded. */
const clean = (text: string | undefined, max: number) => (text ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, max);

export class LeakReports {
  private readonly githubKeys: Map<string, KeyObject>;

  constructor(
    config: LeakReportsConfig,
    private readonly deps: { store: LeakReportStore; pats: PatService; sessions: SessionService; clock: Clock; audit: AuditTrail; log: (line: string) => void },
  ) {
    this.githubKeys = new Map(config.github.keys.map((k) => [k.id, createPublicKey(k.key)]));
  }

  /**
   * GitHub signs the raw body with ECDSA P-256/SHA-256 (DER signature, base64) under the key
   * named in `Github-Public-Key-Identifier`. Unknown key or bad signature: refused, nothing done.
   */
  verifyGithub(rawBody: string, keyId: string | undefined, signature: string | undefined): void {
    const key = keyId ? this.githubKeys.get(keyId) : undefined;
    if (!key || !signature) throw new Unauthorized('the report is not signed with a configured GitHub secret scanning key', 'invalid_signature');
    let ok = false;
    try {
      ok = verify('sha256', Buffer.from(rawBody), { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
    } catch {
      ok = false;
    }
    if (!ok) throw new Unauthorized('the report signature does not verify', 'invalid_signature');
  }

  async report(reports: LeakReport[], reporter: string): Promise<LeakOutcome[]> {
    const outcomes: LeakOutcome[] = [];
    for (const report of reports) outcomes.push(await this.one(report, reporter));
    return outcomes;
  }

  private async one(report: LeakReport, reporter: string): Promise<LeakOutcome> {
    const parsed = parseSecret(report.token);
    if (parsed.kind === 'jwt' || parsed.kind === 'unknown') {
      return { verdict: { token_hash: hashOf(report.token), token_type: 'unknown', label: 'false_positive' } };
    }
    const verdict = (label: LeakVerdict['label']): LeakVerdict => ({ token_hash: parsed.hash, token_type: `tessera_${parsed.kind}`, label });
    const { store, pats, sessions, clock, log } = this.deps;
    const now = clock();
    const where = `${clean(report.url, 300) || 'an unnamed place'}${report.source ? ` (${clean(report.source, 40)})` : ''}`;
    const by = `leak report by ${clean(reporter, 80)}: found at ${where}`;

    if (parsed.kind === 'pat') {
      const token = await findByHash(store, parsed.userId, parsed.hash, now);
      if (!token) return { verdict: verdict('false_positive') };
      if (token.revokedAt !== undefined || token.expiresAt <= now) return { verdict: verdict('true_positive') };
      await pats.revokeBySecret(report.token, by);
      log(`[tessera] leaked token ${token.id} of user ${token.userId} revoked: ${by}`);
      // The revocation itself was recorded as token.revoked; this records who reported it, and
      // where it was found, in the owner's security log.
      await this.deps.audit.record({ type: 'token.leak_reported', target: { userId: token.userId, tokenId: token.id }, details: { reportedBy: by } });
      return { verdict: verdict('true_positive'), revoked: token.id };
    }
    // Login tokens: ending the login they belong to revokes both its access and refresh token.
    const session =
      parsed.kind === 'refresh'
        ? await store.findSessionByRefresh(parsed.userId, parsed.hash)
        : (await sessions.verifyAccess(report.token))?.session ?? null;
    if (!session) return { verdict: verdict('false_positive') };
    await sessions.revoke(parsed.userId, session.id);
    log(`[tessera] leaked login token of user ${parsed.userId} (session ${session.id}) revoked: ${by}`);
    await this.deps.audit.record({ type: 'token.leak_reported', target: { userId: parsed.userId }, details: { sessionId: session.id, reportedBy: by } });
    return { verdict: verdict('true_positive') };
  }
}

/**
 * The record with this secret hash. A usable token is found in one read (the hash index); only a
 * report of a dead one (revoked or expired, which the index no longer holds) walks the owner's
 * retained records, a page at a time, so a report never reads every record in one call.
 */
async function findByHash(store: LeakReportStore, userId: string, hash: string, now: number): Promise<TokenRecord | undefined> {
  const id = await store.findTokenIdByHash(userId, hash);
  if (id !== null) return (await store.getToken(userId, id)) ?? undefined;
  for await (const token of eachToken(store, userId, now, { revoked: true, expired: true })) {
    if (token.hash === hash) return token;
  }
  return undefined;
}
