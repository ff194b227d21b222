/**
 * The one time a token's secret is shown: in the response to the POST that created it. It is
 * never put in a URL, a cookie or the session, and no later page can show it, because only
 * its hash is stored. `data-replace-url` lets tessera.js turn the address into the token list,
 * so reloading this page asks for the list (GET) instead of posting the form again.
 */
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';
import type { PresentedToken } from './token-table.js';

export interface CreatedTokenView {
  secret: string;
  token: PresentedToken;
  /** Ids revoked to stay within the per-user limit. */
  evicted: string[];
  /** A rotation: the replaced token's id and when its secret stops (now, or after a grace period). */
  replaced?: { id: string; endsAt: number };
  /** Where "done" leads: the list this token now appears in. */
  backHref: string;
  now: number;
}

export function createdTokenCard(view: CreatedTokenView): SafeHtml {
  const { token, now } = view;
  return html`<section class="card created" aria-labelledby="created-heading">
  <div data-replace-url="${view.backHref}" hidden></div>
  <h1 id="created-heading">Token created: ${token.name}</h1>
  <p class="warning" role="alert"><strong>Copy this token now: it is shown only once.</strong> Tessera keeps only a fingerprint of it and cannot show it again. If you lose it, revoke it and generate a new one.</p>
  <p class="field-label" id="new-token-label">Token for ${token.user}</p>
  <code id="new-token" class="secret" aria-labelledby="new-token-label">${view.secret}</code>
  <div class="actions">
    <button type="button" data-copy="new-token" hidden>Copy to clipboard</button>
    <a class="button secondary" href="${view.backHref}">Done</a>
  </div>
  <dl class="facts">
    <dt>Expires</dt><dd>${instant(Date.parse(token.expires_at!), now)}${token.expiration === 'sliding' ? html` <span class="hint">(auto-refresh, at most until ${instant(Date.parse(token.max_lifetime_at!))})</span>` : ''}</dd>
    <dt>Scopes</dt><dd>${token.scopes.length ? token.scopes.map((s) => html`<code class="scope">${s}</code> `) : 'full rights of the account'}</dd>
  </dl>
  ${view.replaced
    ? html`<p class="notice" id="replaced-notice">${view.replaced.endsAt > now
        ? html`The old secret (<code>${view.replaced.id}</code>) keeps working until ${instant(view.replaced.endsAt, now)}, then stops.`
        : html`The old secret (<code>${view.replaced.id}</code>) no longer works.`}</p>`
    : ''}
  ${view.evicted.length
    ? html`<p class="notice">To stay within the limit of active tokens per user, the oldest ${view.evicted.length === 1 ? 'token was' : 'tokens were'} revoked: ${view.evicted.map((id, i) => html`${i ? ', ' : ''}<code>${id}</code>`)}.</p>`
    : ''}
</section>`;
}
