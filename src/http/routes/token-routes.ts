/**
 * Personal access tokens over REST (`/api/v1/tokens`). All rules live in
 * `PatService`; these handlers only read the request and present the answer.
 */
import Router from '@koa/router';
import { InvalidRequest } from '../../errors.js';
import type { Services } from '../../gateway.js';
import type { Principal } from '../../tokens/principal.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { readJson } from '../body.js';
import { pageLimit } from '../page-query.js';
import { presentToken } from '../presenters.js';

function queryList(value: unknown): string[] {
  const raw = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : '';
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

export function tokenRoutes(services: Services): Router {
  const { config, pats, clock } = services;
  const limit = config.server.bodyLimitBytes;
  const router = new Router({ prefix: '/api/v1' });
  const auth = requirePrincipal(services);
  const principal = (ctx: { state: Record<string, unknown> }) => ctx.state.principal as Principal;

  router.post('/tokens', auth, async (ctx) => {
    const created = await pats.create(principal(ctx), await readJson(ctx, limit));
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      ...presentToken(created.record, created.owner, clock()),
      token: created.secret,
      evicted: created.evicted,
      ...(created.clampedToCaller ? { notice: 'No lifetime was given: the token expires with the token that created it.' } : {}),
      warning: 'Store this token now: it is shown only once.',
    };
  });

  // ?user=NAME, ?all=true (admins: every user's), ?include=revoked,expired, ?limit=N&cursor=C (pages),
  // ?ids=ID,ID (describe several)
  router.get('/tokens', auth, async (ctx) => {
    const ids = queryList(ctx.query.ids);
    const now = clock();
    if (ids.length) {
      if (ids.length > 100) throw new InvalidRequest('at most 100 ids');
      const found = await Promise.all(ids.map((id) => pats.get(principal(ctx), id)));
      ctx.body = { tokens: found.map(({ token, owner }) => presentToken(token, owner, now)) };
      return;
    }
    const include = new Set(queryList(ctx.query.include));
    const unknown = [...include].filter((i) => i !== 'revoked' && i !== 'expired');
    if (unknown.length) throw new InvalidRequest(`include takes revoked and/or expired, not ${unknown.join(',')}`);
    if (ctx.query.all !== 'true') {
      // One user's tokens, by page (?limit=1..1000, default 100; ?cursor= the previous `next`).
      const page = await pats.listPage(principal(ctx), {
        user: typeof ctx.query.user === 'string' ? ctx.query.user : undefined,
        include: { revoked: include.has('revoked'), expired: include.has('expired') },
        limit: pageLimit(ctx.query.limit),
        cursor: typeof ctx.query.cursor === 'string' && ctx.query.cursor !== '' ? ctx.query.cursor : undefined,
      });
      ctx.body = { tokens: page.tokens.map((token) => presentToken(token, page.owner, now)), ...(page.next ? { next: page.next } : {}) };
      return;
    }
    // Every user's tokens (admins), by page like one user's: `next` while there is more.
    if (ctx.query.user !== undefined) throw new InvalidRequest('give user or all=true, not both');
    const page = await pats.listAllPage(principal(ctx), {
      include: { revoked: include.has('revoked'), expired: include.has('expired') },
      limit: pageLimit(ctx.query.limit),
      cursor: typeof ctx.query.cursor === 'string' && ctx.query.cursor !== '' ? ctx.query.cursor : undefined,
    });
    ctx.body = { tokens: page.entries.map(({ token, owner }) => presentToken(token, owner, now)), ...(page.next ? { next: page.next } : {}) };
  });

  router.get('/tokens/:id', auth, async (ctx) => {
    const { token, owner } = await pats.get(principal(ctx), ctx.params.id!);
    ctx.body = presentToken(token, owner, clock());
  });

  router.patch('/tokens/:id', auth, async (ctx) => {
    const body = await readJson(ctx, limit);
    const extra = Object.keys(body).filter((k) => k !== 'name' && k !== 'description');
    if (extra.length) throw new InvalidRequest(`only name and description can change, not ${extra.join(', ')}`);
    const { token, owner } = await pats.update(principal(ctx), ctx.params.id!, body);
    ctx.body = presentToken(token, owner, clock());
  });

  router.delete('/tokens/:id', auth, async (ctx) => {
    const { token, owner } = await pats.revoke(principal(ctx), ctx.params.id!);
    ctx.body = presentToken(token, owner, clock());
  });

  // The emergency switch: every credential of every user (PATs, login and browser sessions,
  // provider grants and SSO logins). The body must say so, so that a stray request cannot trigger it.
  router.post('/admin/tokens/revoke-all', auth, requireAdmin, async (ctx) => {
    const body = await readJson(ctx, limit);
    if (body.confirm !== 'revoke-all') throw new InvalidRequest('send {"confirm": "revoke-all"} to revoke every token');
    ctx.body = await services.revocation.revokeEverything(principal(ctx));
  });

  return router;
}
