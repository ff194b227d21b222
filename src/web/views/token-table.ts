/**
 * A table of tokens, as presented by `presentToken` (never a hash or a secret). Used for the
 * user's own tokens and, with other actions, for a user's tokens on the admin pages. On a phone
 * the table turns into one card per token (tessera.css), so each cell carries its label.
 */
import type { presentToken } from '../../http/presenters.js';
import { html, type SafeHtml } from '../html.js';
import { day, formatSpan } from './time-format.js';

export type PresentedToken = ReturnType<typeof presentToken>;

export interface TokenTableOptions {
  now: number;
  csrf: string;
  /** Form action revoking one token. */
  revokeAction: (id: string) => string;
  /** Where "Regenerate" posts (a new secret, same settings); absent: no such button. */
  rotateAction?: (id: string) => string;
  /** How long the old secret may keep working after "Regenerate" (`grace` values, ms); the first choice is none. */
  rotateGraces?: number[];
  /** Form action saving a description; absent: descriptions are not edited here. */
  describeAction?: (id: string) => string;
  /** A description edit that failed: its form opens again with the error and the typed text. */
  describeProblem?: { id: string; message: string; value: string };
  emptyText: string;
}

const ms = (iso: string | null) => (iso === null ? undefined : Date.parse(iso));

function expiryCell(token: PresentedToken, now: number): SafeHtml {
  if (token.expiration === 'sliding') {
    const window = formatSpan((token.sliding_window ?? 0) * 1000);
    return html`${day(ms(token.expires_at), now)}<br><span class="hint" title="Each use moves the expiry ${window} ahead, up to the maximum lifetime">auto-refresh, ${window}; until ${day(ms(token.max_lifetime_at))} at most</span>`;
  }
  return html`${day(ms(token.expires_at), now)}`;
}

function statusCell(token: PresentedToken): SafeHtml {
  const detail = token.status === 'revoked' ? html`<br><span class="hint">by ${token.revoked_by ?? 'unknown'}, ${day(ms(token.revoked_at))}</span>` : '';
  return html`<span class="status status-${token.status}">${token.status}</span>${detail}`;
}

function describeForm(token: PresentedToken, options: TokenTableOptions): SafeHtml | '' {
  if (!options.describeAction || token.status !== 'active') return '';
  const problem = options.describeProblem?.id === token.id ? options.describeProblem : undefined;
  const field = `description-${token.id}`;
  return html`<details${problem ? html` open` : ''}>
  <summary>Edit description</summary>
  <form method="post" action="${options.describeAction(token.id)}">
    <input type="hidden" name="_csrf" value="${options.csrf}">
    ${problem ? html`<p class="error" role="alert" id="${field}-error">${problem.message}</p>` : ''}
    <label for="${field}">Description of ${token.name}</label>
    <textarea id="${field}" name="description" maxlength="1000"${problem ? html` aria-describedby="${field}-error"` : ''}>${problem ? problem.value : token.description}</textarea>
    <div class="actions"><button type="submit" class="secondary">Save description</button></div>
  </form>
</details>`;
}

/** "Old secret works": now, or for one of the offered grace periods. */
function graceChoice(token: PresentedToken, graces: number[] | undefined): SafeHtml | '' {
  if (!graces?.length) return '';
  return html`<select name="grace" class="small" aria-label="Old secret of ${token.name} works">
    <option value="">old secret stops now</option>
    ${graces.map((ms) => html`<option value="${Math.round(ms / 1000)}">old secret works ${formatSpan(ms)} more</option>`)}
  </select>`;
}

function revokeForm(token: PresentedToken, options: TokenTableOptions): SafeHtml | '' {
  if (token.status !== 'active') return '';
  return html`<form method="post" action="${options.revokeAction(token.id)}" data-confirm="Revoke the token “${token.name}”? Anything using it is refused from now on.">
  <input type="hidden" name="_csrf" value="${options.csrf}">
  <button type="submit" class="danger small" aria-label="Revoke ${token.name}">Revoke</button>
</form>${options.rotateAction
    ? html`<form method="post" action="${options.rotateAction(token.id)}" data-confirm="Regenerate the token “${token.name}”? Its current secret stops working ${options.rotateGraces?.length ? 'when chosen' : 'now'}; the new one is shown once.">
  <input type="hidden" name="_csrf" value="${options.csrf}">
  ${graceChoice(token, options.rotateGraces)}
  <button type="submit" class="secondary small" aria-label="Regenerate ${token.name}">Regenerate</button>
</form>`
    : ''}`;
}

function row(token: PresentedToken, options: TokenTableOptions): SafeHtml {
  const { now } = options;
  return html`<tr id="token-${token.id}" class="token-row">
  <td data-label="Token"><strong class="token-name">${token.name}</strong>
    ${token.description ? html`<div class="description">${token.description}</div>` : ''}
    <div class="hint token-id">id <code>${token.id}</code></div></td>
  <td data-label="Scopes">${token.scopes.length ? token.scopes.map((s) => html`<code class="scope">${s}</code> `) : html`<span class="hint">full rights of the account</span>`}</td>
  <td data-label="Created">${day(ms(token.created_at))}${token.created_by !== token.user ? html`<br><span class="hint">by ${token.created_by}</span>` : ''}</td>
  <td data-label="Expires">${expiryCell(token, now)}</td>
  <td data-label="Last used">${token.last_used_at ? html`${day(ms(token.last_used_at), now)}<br><span class="hint">from ${token.last_used_ip ?? 'unknown address'}</span>` : html`<span class="hint">never</span>`}</td>
  <td data-label="Status">${statusCell(token)}</td>
  <td data-label="Actions" class="row-actions">${revokeForm(token, options)}${describeForm(token, options)}</td>
</tr>`;
}

export function tokenTable(tokens: PresentedToken[], options: TokenTableOptions): SafeHtml {
  if (!tokens.length) return html`<p class="empty">${options.emptyText}</p>`;
  const newestFirst = [...tokens].sort((a, b) => Date.parse(b.created_at!) - Date.parse(a.created_at!));
  return html`<table class="tokens">
  <thead><tr><th scope="col">Token</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${newestFirst.map((token) => row(token, options))}</tbody>
</table>`;
}

/** The GET form that chooses which tokens the table includes. */
export function tokenFilters(action: string, include: { revoked: boolean; expired: boolean }): SafeHtml {
  return html`<form method="get" action="${action}" class="filters" aria-label="Which tokens to show">
  <label class="check"><input type="checkbox" name="revoked" value="1"${include.revoked ? html` checked` : ''}> Show revoked</label>
  <label class="check"><input type="checkbox" name="expired" value="1"${include.expired ? html` checked` : ''}> Show expired</label>
  <button type="submit" class="secondary small">Apply</button>
</form>`;
}

/** The filter choice from the query string (`?revoked=1&expired=1`). */
export function includeFromQuery(query: Record<string, unknown>): { revoked: boolean; expired: boolean } {
  return { revoked: query.revoked === '1', expired: query.expired === '1' };
}
