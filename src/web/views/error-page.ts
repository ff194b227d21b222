/**
 * Errors on the web pages, as pages. Client errors show their message (it is written for the
 * person who caused it); the store being down says so without detail.
 */
import { html, type SafeHtml } from '../html.js';

const HEADINGS: Record<number, string> = {
  400: 'That did not work',
  403: 'Not allowed',
  404: 'Not found',
  409: 'That already exists',
  413: 'That was too large',
  429: 'Too many attempts',
  503: 'Temporarily unavailable',
};

/** Service messages are written for the API ("name is required"); on a page they read as sentences. */
export function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function errorHeading(status: number): string {
  return HEADINGS[status] ?? (status >= 500 ? 'Something went wrong' : 'That did not work');
}

export function errorPage(status: number, message: string, signedIn: boolean): SafeHtml {
  return html`<section class="card narrow">
  <h1>${errorHeading(status)}</h1>
  <p class="error" role="alert">${sentence(message)}</p>
  <p>${signedIn ? html`<a href="/manage_tokens">Go to your tokens</a>` : html`<a href="/login">Sign in</a>`}</p>
</section>`;
}
