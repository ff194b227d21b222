/**
 * Verifying a workload's identity token against the issuer that signed it: jose checks the
 * signature and `iss`/`aud`/`exp`/`nbf`; keys come from the issuer's JWKS (discovered, cached,
 * fetched again on an unknown `kid` no more often than the cooldown) or a fixed file.
 *
 * Every refusal is an `InvalidRequest` naming what was wrong (RFC 8693 §2.2.2 answers
 * `invalid_request` for an unacceptable subject_token); an issuer whose keys cannot be fetched
 * is a 503, never a token.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../clock.js';
import { InvalidRequest, UpstreamUnavailable } from '../errors.js';
import type { WorkloadIdentityConfig, WorkloadIssuerConfig } from './config.js';

/** Asymmetric algorithms only: a symmetric or `none` token proves nothing about who signed it. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Identity tokens are a few KB; anything far larger is refused before parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface VerifiedWorkload {
  issuer: WorkloadIssuerConfig;
  claims: JWTPayload & { jti: string; exp: number };
}

class IssuerKeys {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly config: WorkloadIssuerConfig) {
    // A fixed file is read at start-up, so a wrong path stops the gateway rather than a job.
    if (config.jwksFile) {
      try {
        this.keys = Promise.resolve(createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile, 'utf8'))));
      } catch (err) {
        throw new Error(`workloadIdentity: the jwksFile of ${config.issuer} (${config.jwksFile}) is not a readable JWKS: ${(err as Error).message}`);
      }
    }
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const { issuer, jwksUri, fetchTimeout, refreshCooldown } = this.config;
    let uri = jwksUri;
    if (!uri) {
      const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(fetchTimeout), redirect: 'error' });
      const meta = res.ok ? ((await res.json()) as { jwks_uri?: unknown }) : {};
      if (typeof meta.jwks_uri !== 'string') throw new Error(`discovery answered ${res.status} without a jwks_uri`);
      uri = meta.jwks_uri;
    }
    return createRemoteJWKSet(new URL(uri), { timeoutDuration: fetchTimeout, cooldownDuration: refreshCooldown, cacheMaxAge: 10 * 60_000 });
  }

  get(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.discover().catch((err: unknown) => {
      this.keys = undefined; // discovery failed: try again on the next exchange
      throw err;
    });
    return this.keys;
  }
}

/** Why jose refused, in words for the caller; errors fetching keys are the issuer's outage. */
function refusal(err: unknown, issuer: string): Error {
  if (err instanceof errors.JWTExpired) return new InvalidRequest('subject_token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) return new InvalidRequest(`subject_token claim ${err.claim} is not acceptable: ${err.reason}`);
  if (err instanceof errors.JWKSNoMatchingKey) return new InvalidRequest(`no signing key of ${issuer} matches the subject_token's kid`);
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new InvalidRequest('subject_token is not signed with an accepted algorithm');
  // jose raises a bare JOSEError for a JWKS endpoint answering other than 200.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.constructor === errors.JOSEError) {
    return new UpstreamUnavailable(`the signing keys of ${issuer} could not be fetched`);
  }
  return new InvalidRequest('subject_token signature is not valid');
}

export class WorkloadIssuers {
  private readonly keys: Map<string, { config: WorkloadIssuerConfig; keys: IssuerKeys }>;

  constructor(
    private readonly config: WorkloadIdentityConfig,
    private readonly clock: Clock,
  ) {
    this.keys = new Map(config.issuers.map((i) => [i.issuer, { config: i, keys: new IssuerKeys(i) }]));
  }

  async verify(token: string): Promise<VerifiedWorkload> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidRequest('subject_token is too long');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss; // unverified: only picks whose keys to verify with
    } catch {
      throw new InvalidRequest('subject_token is not a JWT');
    }
    const found = typeof iss === 'string' ? this.keys.get(iss) : undefined;
    if (!found) throw new InvalidRequest('subject_token is not from a trusted workload issuer');
    const { config } = found;
    const skew = Math.ceil(this.config.clockSkew / 1000);
    const now = this.clock();
    let payload: JWTPayload;
    try {
      const keys = await found.keys.get();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALGORITHMS,
        clockTolerance: skew,
        currentDate: new Date(now),
        // jti: the replay cache needs it; exp: every exchange must be bounded in time.
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      }));
    } catch (err) {
      throw refusal(err, config.issuer);
    }
    if (payload.iat! > now / 1000 + skew) throw new InvalidRequest('subject_token claim iat is in the future');
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) throw new InvalidRequest('subject_token claim jti must be a string');
    return { issuer: config, claims: payload as VerifiedWorkload['claims'] };
  }
}
