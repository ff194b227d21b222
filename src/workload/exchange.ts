/**
 * RFC 8693 token exchange for workloads: a CI job or pod presents the identity token its platform
 * signed; if it verifies and a configured rule matches its claims, it gets a short-lived Tessera
 * personal access token for the rule's user, limited to the rule's scopes. The token is a plain
 * PAT (prefix, checksum, hashed at rest, introspectable, listed under its user, revocable) with a
 * hard expiry and no refresh token: when it ends, the job presents a fresh identity token.
 */
import type { AuditTrail } from '../audit/trail.js';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { InvalidRequest, InvalidScope, TesseraError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { PatService } from '../tokens/pat-service.js';
import type { Principal } from '../tokens/principal.js';
import { assertGrantable, joinScopes, parseScopes } from '../tokens/scopes.js';
import type { WorkloadIdentityConfig } from './config.js';
import type { VerifiedWorkload, WorkloadIssuers } from './issuers.js';
import { matchRule } from './rules.js';

/** The part of the store this uses: the rule's user and the one-time `jti` claim. */
export type WorkloadExchangeStore = Pick<Store, 'claimOnce' | 'findUserByName'>;

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SUBJECT_TYPES = new Set(['urn:ietf:params:oauth:token-type:id_token', 'urn:ietf:params:oauth:token-type:jwt']);
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Claims worth showing in the token's description: who ran, from which repo, ref and job. */
const DESCRIBED = ['sub', 'repository', 'ref', 'environment', 'workflow_ref', 'job_workflow_ref', 'run_id', 'project_path', 'pipeline_id', 'job_id', 'kubernetes.io'];

export interface ExchangeRequest {
  subject_token?: string;
  subject_token_type?: string;
  requested_token_type?: string;
  scope?: string;
  /** When a client authenticated: the scopes it may obtain (clients[].allowedScopes). */
  clientAllowedScopes?: readonly string[];
}

/** RFC 8693 §2.2.1 success response. */
export interface ExchangeResponse {
  access_token: string;
  issued_token_type: typeof ACCESS_TOKEN_TYPE;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

function describe({ issuer, claims }: VerifiedWorkload): string {
  const shown = DESCRIBED.filter((k) => claims[k] !== undefined).map((k) => `${k}=${typeof claims[k] === 'string' || typeof claims[k] === 'number' ? claims[k] : JSON.stringify(claims[k])}`);
  // Claims are the issuer's text: no control characters in a description.
  return `workload identity from ${issuer.issuer}: ${shown.join(', ')}`.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 1000);
}

export class WorkloadExchange {
  constructor(
    private readonly config: WorkloadIdentityConfig,
    private readonly issuers: WorkloadIssuers,
    private readonly pats: PatService,
    private readonly store: WorkloadExchangeStore,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** True the first time this issuer's `jti` is presented; remembered until the token could no longer verify. */
  private async firstUse({ issuer, claims }: VerifiedWorkload): Promise<boolean> {
    const key = createHash('sha256').update(`${issuer.issuer}\n${claims.jti}`).digest('base64url');
    const until = claims.exp * 1000 + this.config.clockSkew;
    return this.store.claimOnce(`workload:jti:${key}`, Math.max(1, until - this.clock()), this.clock());
  }

  async exchange(request: ExchangeRequest): Promise<ExchangeResponse> {
    if (!request.subject_token) throw new InvalidRequest('subject_token is required');
    if (!request.subject_token_type || !SUBJECT_TYPES.has(request.subject_token_type)) {
      throw new InvalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:id_token or :jwt');
    }
    if (request.requested_token_type !== undefined && request.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new InvalidRequest(`only ${ACCESS_TOKEN_TYPE} can be issued`);
    }
    const verified = await this.issuers.verify(request.subject_token);
    const matched = matchRule(verified.issuer.rules, verified.claims);
    if (!matched) throw new InvalidRequest('no workload rule of this issuer matches the subject_token\'s claims');
    const { rule, index } = matched;

    // A requested scope may only narrow the rule's scopes (RFC 6749 §3.3).
    const ruleScopes = parseScopes(rule.scopes);
    const requested = request.scope === undefined ? ruleScopes : parseScopes(request.scope);
    if (requested.length === 0) throw new InvalidScope('scope must name at least one scope');
    assertGrantable(ruleScopes, requested);
    // A client that authenticated is held to its allow-list, as at every other grant.
    const refused = request.clientAllowedScopes && requested.find((s) => !request.clientAllowedScopes!.includes(s));
    if (refused) throw new InvalidScope(`the client may not obtain scope ${refused}`);

    const owner = await this.store.findUserByName(rule.user);
    if (!owner?.enabled) throw new InvalidRequest('the user this workload acts as does not exist or is disabled');
    if (!(await this.firstUse(verified))) throw new InvalidRequest('subject_token has already been exchanged (jti replay)');

    // Created as the user itself, so the PAT rules hold: the user must be allowed tokens, and a
    // scoped token never carries more than its owner may do (nor admin rights: scopes are set).
    const asOwner: Principal = { user: owner, via: 'session', scopes: null };
    const lifetime = Math.min(rule.lifetime, this.config.maxLifetime);
    const created = await this.pats
      .create(asOwner, {
        name: `workload: ${rule.name ?? `${verified.issuer.issuer} rule ${index + 1}`}`.slice(0, 100),
        description: describe(verified),
        scopes: requested,
        expires_in: Math.max(1, Math.floor(lifetime / 1000)),
      })
      .catch((err: unknown) => {
        // The PAT rules refused (user may not hold tokens, per-user limit): RFC 8693 §2.2.2 says invalid_request.
        if (err instanceof TesseraError && err.status < 500 && !(err instanceof InvalidScope)) throw new InvalidRequest(err.message);
        throw err;
      });
    this.log(`[tessera] workload token ${created.record.id} for ${owner.username} from ${verified.issuer.issuer} (sub ${String(verified.claims.sub).replace(/[^\x20-\x7e]/g, '?').slice(0, 200)})`);
    // token.created was recorded by the PAT service; this says which workload it was issued to.
    await this.audit.record({
      type: 'token.exchanged',
      target: { userId: owner.id, username: owner.username, tokenId: created.record.id },
      details: { issuer: verified.issuer.issuer, sub: String(verified.claims.sub).slice(0, 200) },
    });
    return {
      access_token: created.secret,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: Math.floor((created.record.expiresAt - this.clock()) / 1000),
      scope: joinScopes(requested),
    };
  }
}
