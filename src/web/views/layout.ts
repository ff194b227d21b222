/**
 * The page frame every Tessera page shares (sign-in, OIDC interactions, token pages, admin).
 * No inline script or style: the Content-Security-Policy set in `securityHeaders` forbids them,
 * so progressive-enhancement JS lives in /static/tessera.js.
 */
import type { Context } from 'koa';
import { html, type SafeHtml } from '../html.js';

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Signed-in user, for the navigation bar. */
  user?: { username: string; role: string } | null;
  /** CSRF token for the sign-out form in the navigation bar. */
  csrf?: string;
  status?: number;
  /**
   * Forms on OIDC interaction pages end in a redirect to the client's redirect_uri, another
   * origin, which CSP `form-action 'self'` would block; those pages leave form-action open.
   */
  formsLeaveSite?: boolean;
}

export function layout({ title, body, user, csrf }: PageOptions): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tessera</title>
<link rel="stylesheet" href="/static/tessera.css">
<script src="/static/tessera.js" defer></script>
</head>
<body>
<header class="bar">
  <a class="brand" href="/">Tessera</a>
  ${user
    ? html`<nav aria-label="Main">
    <a href="/manage_tokens">Tokens</a>
    ${user.role === 'admin' ? html`<a href="/admin/users">Admin</a>` : ''}
    ${user.role === 'admin' ? html`<a href="/admin/audit">Audit</a>` : ''}
    <a href="/docs/api">API</a>
    <a href="/account">${user.username}</a>
    <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${csrf ?? ''}"><button type="submit" class="link">Sign out</button></form>
  </nav>`
    : ''}
</header>
<main id="main">
${body}
</main>
</body>
</html>`;
}

/** Headers for every page: strict CSP (no inline script or style), no framing, no caching. */
function setPageHeaders(ctx: Pick<Context, 'set'>, formsLeaveSite = false): void {
  const formAction = formsLeaveSite ? '' : " form-action 'self';";
  ctx.set({
    'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;${formAction} frame-ancestors 'none'; base-uri 'none'; object-src 'none'`,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
}

export function renderPage(ctx: Pick<Context, 'set' | 'status' | 'type' | 'body'>, options: PageOptions): void {
  setPageHeaders(ctx, options.formsLeaveSite);
  ctx.status = options.status ?? 200;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = layout(options).value;
}
