/**
 * The user's own token page (/manage_tokens): the list with its filters, the "generate" form
 * (for users with the token-creator permission) and "revoke all my tokens".
 */
import type { ScopeVocabulary } from '../../tokens/scope-vocabulary.js';
import type { TesseraConfig } from '../../config/schema.js';
import { html, type SafeHtml } from '../html.js';
import { tokenForm, type TokenFormValues } from './token-form.js';
import { tokenFilters, tokenTable, type PresentedToken, type TokenTableOptions } from './token-table.js';

export interface TokensPageView {
  tokens: PresentedToken[];
  include: { revoked: boolean; expired: boolean };
  csrf: string;
  now: number;
  limits: TesseraConfig['tokens'];
  /** The declared scopes the token form offers. */
  vocabulary?: ScopeVocabulary;
  mayCreate: boolean;
  notice?: SafeHtml | '';
  /** A refused "generate" form: its error and what was typed. */
  create?: { error: string; values: TokenFormValues };
  describeProblem?: TokenTableOptions['describeProblem'];
  /** The link to the next page of the list, when there is one. */
  nextHref?: string;
}

/** Grace periods "Regenerate" offers (each within tokens.rotationGraceMax): an hour, a day, a week. */
const GRACES = [3_600_000, 86_400_000, 604_800_000];

export function tokensPage(view: TokensPageView): SafeHtml {
  const active = view.tokens.filter((t) => t.status === 'active').length;
  // With more pages, this page's count is not the user's total: say "all", not a number.
  const activeText = view.nextHref ? html`${active}+ active` : html`${active} active`;
  const revokeAllText = view.nextHref ? 'Revoke all of your active tokens?' : `Revoke all ${active} of your active tokens?`;
  const path = (id: string, action: string) => `/manage_tokens/${encodeURIComponent(id)}/${action}`;
  return html`<h1>Your access tokens</h1>
${view.notice ?? ''}
<p class="lead">Personal access tokens let scripts, git and other tools act as you. Treat them like passwords.</p>
<section class="card" aria-labelledby="list-heading">
  <div class="card-head">
    <h2 id="list-heading">Tokens <span class="hint">(${activeText})</span></h2>
    ${tokenFilters('/manage_tokens', view.include)}
  </div>
  ${tokenTable(view.tokens, {
    now: view.now,
    csrf: view.csrf,
    revokeAction: (id) => path(id, 'revoke'),
    rotateAction: (id) => path(id, 'rotate'),
    rotateGraces: GRACES.filter((ms) => ms <= view.limits.rotationGraceMax),
    describeAction: (id) => path(id, 'description'),
    describeProblem: view.describeProblem,
    emptyText: 'No tokens to show.',
  })}
  ${view.nextHref ? html`<p class="pager"><a href="${view.nextHref}" rel="next">Next page</a></p>` : ''}
  ${active
    ? html`<form method="post" action="/manage_tokens/revoke-all" class="actions" data-confirm="${revokeAllText} Everything using them stops working, and your other sign-ins end.">
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <button type="submit" class="danger">Revoke all my tokens</button>
  </form>`
    : ''}
</section>
<section class="card" aria-labelledby="new-token-heading">
  ${view.mayCreate
    ? tokenForm({
        action: '/manage_tokens',
        csrf: view.csrf,
        heading: 'Generate a new token',
        limits: view.limits,
        vocabulary: view.vocabulary,
        now: view.now,
        values: view.create?.values,
        error: view.create?.error,
      })
    : html`<h2 id="new-token-heading">Generate a new token</h2><p class="notice">Your account may not create tokens. Ask an administrator if you need one.</p>`}
</section>`;
}
