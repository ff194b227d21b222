/**
 * The declared scope vocabulary (config `scopes:`): the scopes a personal access token may carry,
 * each with a description for people choosing them. A name is an exact scope (`read:packages`) or
 * a pattern whose `<id>` stands for one identifier and whose `a|b` segment for one of the
 * alternatives (`resource:<id>:r|w|rw`, `resource:models:r|w|rw`).
 *
 * Undeclared scopes are refused unless `tokens.allowUndeclaredScopes` is true. Unset, it is true
 * exactly when no vocabulary is configured, so a deployment that never declared scopes keeps
 * accepting free-text ones, and one that declares them gets typos refused.
 */
import type { TesseraConfig } from '../config/schema.js';
import { InvalidScope } from '../errors.js';

export interface DeclaredScope {
  name: string;
  description: string;
  /** True when `name` is a pattern (has `<id>` or `a|b`), not one exact scope. */
  pattern: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()[\]\\]/g, '\\$&');

/** `resource:<id>:r|w|rw` → /^resource:[^:\s]+:(?:r|w|rw)$/ */
function compile(name: string): RegExp {
  const segments = name.split(':').map((segment) => {
    if (segment === '<id>') return '[^:\\s]+';
    if (segment.includes('|')) return `(?:${segment.split('|').map(escape).join('|')})`;
    return escape(segment);
  });
  return new RegExp(`^${segments.join(':')}$`);
}

const isScopePattern = (name: string): boolean => name.includes('<id>') || name.includes('|');

export class ScopeVocabulary {
  readonly declared: DeclaredScope[];
  readonly allowUndeclared: boolean;
  private readonly matchers: RegExp[];

  constructor(config: Pick<TesseraConfig, 'scopes' | 'tokens'>) {
    this.declared = config.scopes.map((s) => ({ name: s.name, description: s.description, pattern: isScopePattern(s.name) }));
    this.allowUndeclared = config.tokens.allowUndeclaredScopes ?? config.scopes.length === 0;
    this.matchers = config.scopes.map((s) => compile(s.name));
  }

  isDeclared(scope: string): boolean {
    return this.matchers.some((m) => m.test(scope));
  }

  /** Throws InvalidScope naming the first undeclared scope, unless undeclared ones are allowed. */
  assertDeclared(scopes: readonly string[]): void {
    if (this.allowUndeclared) return;
    const unknown = scopes.find((s) => !this.isDeclared(s));
    if (unknown !== undefined) throw new InvalidScope(`unknown scope ${unknown}: see GET /api/v1/scopes for the declared ones`);
  }
}
