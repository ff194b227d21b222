/**
 * `workloadIdentity`: the CI systems and clusters whose signed job identity tokens Tessera trades
 * for short-lived, scoped Tessera tokens (RFC 8693), so no long-lived secret sits in a pipeline.
 *
 * ```yaml
 * workloadIdentity:
 *   issuers:
 *     - issuer: https://token.actions.githubusercontent.com
 *       audience: https://id.example.org
 *       rules:
 *         - claims: { repository: acme/models, ref: refs/heads/main }
 *           user: svc-models-deploy
 *           scopes: [resource:models:rw]
 *           lifetime: 15m
 * ```
 */
import { z } from 'zod';
import { durationField as duration } from '../config/duration.js';

/** A claim condition: one exact value, a glob (`*` matches any run of characters), or a list of either. */
const condition = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const rule = z.strictObject({
  /** Shown in the issued token's name; defaults to the rule's position. */
  name: z.string().min(1).max(60).optional(),
  /**
   * Every listed claim must match (string or number claims only). At least one condition: a rule
   * that matches every job of an issuer (all of github.com!) is never what anyone meant.
   */
  claims: z.record(z.string().min(1), condition).refine((c) => Object.keys(c).length > 0, 'a rule needs at least one claim condition'),
  /** The Tessera user the workload acts as (typically a service account user). */
  user: z.string().min(1),
  /**
   * Scopes of the issued token. Required and non-empty: a workload never gets its user's full
   * rights, and the scopes only ever narrow what that user may do.
   */
  scopes: z.array(z.string().min(1)).min(1),
  /** Lifetime of the issued token, capped by `workloadIdentity.maxLifetime`. */
  lifetime: duration('15m'),
});

const issuer = z
  .strictObject({
    /** The `iss` the tokens carry, exactly. */
    issuer: z.url(),
    /**
     * JWKS URL. Unset: discovered from `<issuer>/.well-known/openid-configuration`. Keys are cached
     * and fetched again when a token names an unknown `kid` (a CI provider rotated its keys).
     */
    jwksUri: z.url().optional(),
    /** Or a fixed JWKS file, for air-gapped sites (e.g. a cluster's `kubectl get --raw /openid/v1/jwks`). */
    jwksFile: z.string().min(1).optional(),
    /** The `aud` Tessera requires: set it in the job (GitHub `audience:`, GitLab `id_tokens: aud:`). */
    audience: z.string().min(1),
    /** How long to wait for discovery or JWKS before refusing the exchange. */
    fetchTimeout: duration('5s'),
    /**
     * The least time between two JWKS fetches caused by unknown `kid`s, so a flood of forged
     * tokens cannot turn Tessera into a load generator against the CI provider.
     */
    refreshCooldown: duration('30s'),
    rules: z.array(rule).min(1),
  })
  .refine((i) => !(i.jwksUri && i.jwksFile), 'give jwksUri or jwksFile, not both');

export const workloadIdentitySchema = z
  .strictObject({
    issuers: z.array(issuer).default([]),
    /** No rule may grant a token longer than this: a leaked workload token dies fast. */
    maxLifetime: duration('1h'),
    /** Clock skew tolerated on `exp`, `nbf` and `iat` of incoming tokens. */
    clockSkew: duration('30s'),
  })
  .superRefine((w, ctx) => {
    w.issuers.forEach((i, n) =>
      i.rules.forEach((r, m) => {
        if (r.lifetime > w.maxLifetime) ctx.addIssue({ code: 'custom', message: 'longer than workloadIdentity.maxLifetime', path: ['issuers', n, 'rules', m, 'lifetime'] });
      }),
    );
    if (new Set(w.issuers.map((i) => i.issuer)).size !== w.issuers.length) ctx.addIssue({ code: 'custom', message: 'issuer URLs must be unique', path: ['issuers'] });
  });

export type WorkloadIdentityConfig = z.output<typeof workloadIdentitySchema>;
export type WorkloadIssuerConfig = WorkloadIdentityConfig['issuers'][number];
export type WorkloadRule = WorkloadIssuerConfig['rules'][number];
