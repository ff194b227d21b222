/**
 * The banner on /manage_tokens for tokens about to stop for good (the same thresholds as the
 * expiry e-mails: `notifications.expiryDays`), so someone who missed the e-mail sees it here.
 */
import type { TokenRecord } from '../../store/store.js';
import { finalDeadline } from '../../signals/expiry-notices.js';
import { html, type SafeHtml } from '../html.js';
import { instant } from './time-format.js';

export function expiryBanner(tokens: TokenRecord[], now: number): SafeHtml | '' {
  if (!tokens.length) return '';
  return html`<div class="notice warning" role="alert" data-expiry-banner>
  <strong>${tokens.length === 1 ? 'A token expires soon' : `${tokens.length} tokens expire soon`}:</strong>
  <ul>${tokens.map((t) => html`<li>${t.name} (${t.id}): stops working ${instant(finalDeadline(t), now)}</li>`)}</ul>
  Create replacements before then and update wherever they are used.
</div>`;
}
