/**
 * The one-line confirmation shown after a POST-redirect-GET (`?done=revoked`). Only a fixed key
 * and numbers travel in the URL, never text a user typed, so the URL cannot inject a message.
 */
import { html, type SafeHtml } from '../html.js';

type Query = Record<string, string | string[] | undefined>;

const count = (query: Query, key: string): number => {
  const value = Number(query[key]);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const MESSAGES: Record<string, (query: Query) => string> = {
  revoked: () => 'The token was revoked. Anything using it is now refused.',
  'revoked-all': (q) => `Revoked ${plural(count(q, 'count'), 'token')}, ${plural(count(q, 'sessions'), 'session')} and ${plural(count(q, 'grants'), 'app grant')}.`,
  'revoked-everything': (q) =>
    `Revoked ${plural(count(q, 'tokens'), 'token')}, ${plural(count(q, 'sessions'), 'session')} and ${plural(count(q, 'grants'), 'app grant')} of ${plural(count(q, 'users'), 'user')}.`,
  described: () => 'The description was saved.',
  'user-created': () => 'The user was created.',
  'role-changed': () => 'The role was changed.',
  enabled: () => 'The account is enabled.',
  disabled: () => 'The account is disabled: its sign-ins ended and its tokens stop working.',
  'password-reset': () => 'The password was reset. The user\'s existing sign-ins ended.',
  'user-deleted': () => 'The user was deleted; their tokens and sign-ins no longer work.',
};

export function doneNotice(query: Query): SafeHtml | '' {
  const key = typeof query.done === 'string' ? query.done : '';
  const message = Object.hasOwn(MESSAGES, key) ? MESSAGES[key]!(query) : '';
  return message ? html`<p class="notice" role="status">${message}</p>` : '';
}
