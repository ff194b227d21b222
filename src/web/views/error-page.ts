/**
 * An error page in Tessera's frame. What it says comes from the one error mapper
 * (`http/errors.ts`, its `PAGE_MESSAGES` table); this only lays it out.
 */
import type { Context } from 'koa';
import type { ErrorPage } from '../../http/errors.js';
import { html } from '../html.js';
import { showPage } from './page.js';

export function renderErrorPage(ctx: Context, page: ErrorPage): void {
  showPage(ctx, {
    title: page.title,
    status: page.status,
    body: html`<section class="card narrow">
  <h1>${page.heading}</h1>
  <p class="error" role="alert"${page.alertId ? html` id="${page.alertId}"` : ''}>${page.sentence}</p>
  ${page.link ? html`<p><a href="${page.link.href}">${page.link.text}</a></p>` : ''}
</section>`,
  });
}
