/**
 * Personal access tokens over REST (`/api/v1/tokens`). All rules live in
 * `PatService`; these handlers only read the request and present the answer.
 */
import { z } from 'zod';
import { InvalidRequest } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { pageQuery } from '../page-query.js';
import { presentToken } from '../presenters.js';
import { CreatedToken, RevokedCounts, Token, TokenList } from '../wire-schemas.js';

const duration = z.union([z.number(), z.string()]).describe('seconds, or a duration such as "30d"');

/** `null` means "not given" in the optional fields the service has always read that way. */
const CreateToken = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(1000).nullish(),
  user: z.string().optional().describe('admins: create the token for this user'),
  scopes: z.union([z.string(), z.array(z.string())]).nullish().describe('space-separated or a list; none: the owner\'s full rights'),
  expiration: z.enum(['hard', 'sliding']).optional().describe('default hard'),
  expires_in: duration.nullish().describe('hard tokens: lifetime (default tokens.defaultTtl)'),
  expires_at: z.string().optional().describe('hard tokens: ISO 8601 end, instead of expires_in'),
  sliding_window: duration.nullish().describe('sliding tokens: idle time that ends the token'),
  max_lifetime: duration.nullish().describe('sliding tokens: the absolute cap'),
});

const UpdateToken = z.strictObject(
  { name: z.string().min(1).max(100).optional(), description: z.string().max(1000).optional() },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `may change only name and description, not ${issue.keys.join(', ')}` : undefined) },
);

/** `a,b` or repeated parameters, as one list. */
const commaList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value.join(',') : value).split(',').map((s) => s.trim()).filter(Boolean));

const ListTokens = z.object({
  user: z.string().optional().describe('whose tokens (admins: anyone\'s; default the caller)'),
  all: z.enum(['true', 'false']).optional().describe('admins: every user\'s tokens, by page (not with user)'),
  include: commaList.optional().describe('revoked and/or expired, comma-separated'),
  ...pageQuery,
  ids: commaList.optional().describe('describe these tokens (at most 100), comma-separated'),
});

const ById = z.object({ id: z.string() });

export function tokenRoutes(services: Services): ApiRouter {
  const { config, pats, clock } = services;
  const api = new ApiRouter({ prefix: '/api/v1', bodyLimit: config.server.bodyLimitBytes });
  const auth = requirePrincipal(services);
  const principal = (ctx: { state: Record<string, unknown> }) => ctx.state.principal as Principal;
  const tag = 'Personal access tokens';

  api.define(
    {
      method: 'post', path: '/tokens', tag, auth: 'bearer',
      summary: 'Create a personal access token',
      description: 'The secret is in this response only. A token created with a PAT cannot outlive it.',
      request: { body: CreateToken },
      responses: { 201: { description: 'the token, with its secret', schema: CreatedToken } },
    },
    [auth],
    async (ctx, { body }) => {
      const created = await pats.create(principal(ctx), body);
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        ...presentToken(created.record, created.owner, clock()),
        token: created.secret,
        evicted: created.evicted,
        ...(created.clampedToCaller ? { notice: 'No lifetime was given: the token expires with the token that created it.' } : {}),
        warning: 'Store this token now: it is shown only once.',
      };
    },
  );

  api.define(
    {
      method: 'get', path: '/tokens', tag, auth: 'bearer',
      summary: 'List personal access tokens',
      description: 'One user\'s tokens by page (`limit`, `cursor`); `all=true` (admins) every user\'s, by page too; `ids` describes several by id.',
      request: { query: ListTokens },
      responses: { 200: { description: 'a page of tokens', schema: TokenList } },
    },
    [auth],
    async (ctx, { query }) => {
      const now = clock();
      const ids = query.ids ?? [];
      if (ids.length) {
        if (ids.length > 100) throw new InvalidRequest('at most 100 ids');
        const found = await Promise.all(ids.map((id) => pats.get(principal(ctx), id)));
        ctx.body = { tokens: found.map(({ token, owner }) => presentToken(token, owner, now)) };
        return;
      }
      const include = new Set(query.include ?? []);
      const unknown = [...include].filter((i) => i !== 'revoked' && i !== 'expired');
      if (unknown.length) throw new InvalidRequest(`include takes revoked and/or expired, not ${unknown.join(',')}`);
      const including = { revoked: include.has('revoked'), expired: include.has('expired') };
      if (query.all !== 'true') {
        const page = await pats.listPage(principal(ctx), { user: query.user, include: including, limit: query.limit ?? 100, cursor: query.cursor });
        ctx.body = { tokens: page.tokens.map((token) => presentToken(token, page.owner, now)), ...(page.next ? { next: page.next } : {}) };
        return;
      }
      // Every user's tokens (admins), by page like one user's: `next` while there is more.
      if (query.user !== undefined) throw new InvalidRequest('give user or all=true, not both');
      const page = await pats.listAllPage(principal(ctx), { include: including, limit: query.limit ?? 100, cursor: query.cursor });
      ctx.body = { tokens: page.entries.map(({ token, owner }) => presentToken(token, owner, now)), ...(page.next ? { next: page.next } : {}) };
    },
  );

  api.define(
    {
      method: 'get', path: '/tokens/{id}', tag, auth: 'bearer',
      summary: 'Describe a personal access token',
      request: { params: ById },
      responses: { 200: { description: 'the token', schema: Token } },
    },
    [auth],
    async (ctx, { params }) => {
      const { token, owner } = await pats.get(principal(ctx), params.id);
      ctx.body = presentToken(token, owner, clock());
    },
  );

  api.define(
    {
      method: 'patch', path: '/tokens/{id}', tag, auth: 'bearer',
      summary: 'Rename a personal access token or change its description',
      request: { params: ById, body: UpdateToken },
      responses: { 200: { description: 'the token', schema: Token } },
    },
    [auth],
    async (ctx, { params, body }) => {
      const { token, owner } = await pats.update(principal(ctx), params.id, body);
      ctx.body = presentToken(token, owner, clock());
    },
  );

  api.define(
    {
      method: 'delete', path: '/tokens/{id}', tag, auth: 'bearer',
      summary: 'Revoke a personal access token',
      description: 'Introspection answers {"active": false} for it from now on.',
      request: { params: ById },
      responses: { 200: { description: 'the revoked token', schema: Token } },
    },
    [auth],
    async (ctx, { params }) => {
      const { token, owner } = await pats.revoke(principal(ctx), params.id);
      ctx.body = presentToken(token, owner, clock());
    },
  );

  // The emergency switch: every credential of every user (PATs, login and browser sessions,
  // provider grants and SSO logins). The body must say so, so that a stray request cannot trigger it.
  api.define(
    {
      method: 'post', path: '/admin/tokens/revoke-all', tag, auth: 'admin',
      summary: 'Revoke every credential of every user',
      description: 'Personal access tokens, login and browser sessions, provider grants and single sign-on sessions.',
      request: { body: z.object({ confirm: z.literal('revoke-all', { error: 'must be "revoke-all": send {"confirm": "revoke-all"} to revoke every token' }) }) },
      responses: { 200: { description: 'what was ended', schema: RevokedCounts.extend({ users: z.number() }) } },
    },
    [auth, requireAdmin],
    async (ctx) => {
      ctx.body = await services.revocation.revokeEverything(principal(ctx));
    },
  );

  return api;
}
