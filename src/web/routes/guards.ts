/**
 * The steps every signed-in page starts with: who is signed in (else to the sign-in page),
 * admins only (else 403), and, for each state-changing POST, the form read with its CSRF token
 * checked before anything acts on it.
 */
import type { Context, Next } from 'koa';
import { Forbidden } from '../../errors.js';
import type { Services } from '../../services.js';
import { readForm, type Fields } from '../../http/body.js';
import { isAdmin, type Principal } from '../../tokens/principal.js';
import { checkCsrf, webPrincipal } from '../browser-session.js';
import { seeOther } from '../views/page.js';

/** The signed-in user; only valid after `signedIn`. */
export const principalOf = (ctx: Context): Principal => ctx.state.webPrincipal as Principal;

/** The checked form; only valid after `checkedForm`. */
export const formOf = (ctx: Context): Fields => ctx.state.form as Fields;

export const signedIn = (services: Services) =>
  async function signedIn(ctx: Context, next: Next) {
    if (await webPrincipal(ctx, services)) return next();
    // A GET comes back here after sign-in; a POST's form is gone, so it starts from the list.
    seeOther(ctx, ctx.method === 'GET' ? `/login?return=${encodeURIComponent(ctx.originalUrl)}` : '/login');
  };

export async function adminOnly(ctx: Context, next: Next) {
  if (!isAdmin(principalOf(ctx))) throw new Forbidden('This page is for administrators.');
  await next();
}

export const checkedForm = (services: Services) =>
  async function checkedForm(ctx: Context, next: Next) {
    const form = await readForm(ctx, services.config.server.bodyLimitBytes);
    checkCsrf(ctx, form);
    ctx.state.form = form;
    await next();
  };

/** A form field as a string ('' when absent), for fields a page passes on to a service. */
export function field(form: Fields, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}
