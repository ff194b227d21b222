/**
 * Admin: the emergency switch that revokes every token of every user. It asks the admin to
 * type `revoke-all`, like the API's `{"confirm": "revoke-all"}`, so no stray click triggers it.
 */
import { html, type SafeHtml } from '../html.js';

export const REVOKE_ALL_PHRASE = 'revoke-all';

export interface RevokeAllView {
  csrf: string;
  notice?: SafeHtml | '';
  error?: string;
}

export function revokeAllPage(view: RevokeAllView): SafeHtml {
  return html`<p class="crumbs"><a href="/admin/users">Users</a> ›</p>
<h1>Revoke every token</h1>
${view.notice ?? ''}
<section class="card danger-zone" aria-labelledby="revoke-all-heading">
  <h2 id="revoke-all-heading">Emergency: revoke all tokens of all users</h2>
  <p>This revokes every active token of every user. Revoking them stops every script, pipeline and tool that uses one, at once. Use this when tokens may have leaked. Every sign-in ends with them — API logins, browser sessions, apps signed in through Tessera and CLI logins — yours included; this browser is signed in again to show the result.</p>
  <form method="post" action="/admin/revoke-all">
    ${view.error ? html`<p class="error" role="alert" id="confirm-error">${view.error}</p>` : ''}
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <label for="confirm">To confirm, type <code>${REVOKE_ALL_PHRASE}</code></label>
    <input id="confirm" name="confirm" type="text" required autocomplete="off" autocapitalize="off" spellcheck="false"${view.error ? html` aria-describedby="confirm-error"` : ''}>
    <div class="actions"><button type="submit" class="danger">Revoke every token</button></div>
  </form>
</section>`;
}
