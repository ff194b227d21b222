/**
 * Renders a page for the signed-in area: the layout's navigation bar needs the signed-in user
 * (put on the context by `webPrincipal`) and the CSRF token for its sign-out form.
 */
import type { Context } from 'koa';
import type { Principal } from '../../tokens/principal.js';
import type { SafeHtml } from '../html.js';
import { renderPage } from './layout.js';
import { csrfToken } from '../browser-session.js';

export function showPage(ctx: Context, options: { title: string; body: SafeHtml; status?: number }): void {
  const principal = ctx.state.webPrincipal as Principal | null | undefined;
  renderPage(ctx, {
    ...options,
    user: principal ? { username: principal.user.username, role: principal.user.role } : null,
    csrf: csrfToken(ctx),
  });
}

/** 303 See Other: after a POST the browser follows with a GET (POST-redirect-GET). */
export function seeOther(ctx: Context, location: string): void {
  ctx.redirect(location);
  ctx.status = 303;
}
