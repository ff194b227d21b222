/**
 * Matching a verified workload token's claims against the configured rules. The first rule whose
 * every condition holds decides who the workload acts as; no match refuses the exchange.
 */
import type { WorkloadRule } from './config.js';

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters (including `/`); everything else is literal. */
function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
    globCache.set(pattern, re);
  }
  return re;
}

function valueMatches(pattern: string, value: string): boolean {
  return pattern.includes('*') ? glob(pattern).test(value) : pattern === value;
}

/**
 * Only string and number claims are compared: an array or object claim never matches, so a token
 * cannot satisfy `repository: acme/*` with `["acme/x", "evil/y"]`.
 */
function claimMatches(condition: string | string[], claim: unknown): boolean {
  if (typeof claim !== 'string' && typeof claim !== 'number') return false;
  const value = String(claim);
  return (Array.isArray(condition) ? condition : [condition]).some((p) => valueMatches(p, value));
}

export function matchRule(rules: WorkloadRule[], claims: Record<string, unknown>): { rule: WorkloadRule; index: number } | null {
  const index = rules.findIndex((rule) => Object.entries(rule.claims).every(([name, condition]) => claimMatches(condition, claims[name])));
  return index < 0 ? null : { rule: rules[index]!, index };
}
