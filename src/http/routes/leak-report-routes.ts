/**
 * Leaked-token reports:
 *   POST /api/v1/leaked-tokens/github   GitHub secret scanning partner program (signed, no login)
 *   POST /api/v1/admin/leaked-tokens    an admin passing on a report from anywhere else
 * Both take GitHub's JSON list of `{token, type, url, source}` and answer its list of
 * `{token_hash, token_type, label}`; the admin API also says which tokens it revoked.
 */
import coBody from 'co-body';
import type { Context } from 'koa';
import { z } from 'zod';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../../errors.js';
import type { Services } from '../../services.js';
import type { LeakReports } from '../../leaks/leak-reports.js';
import type { Principal } from '../../tokens/principal.js';
import { ApiRouter } from '../api-router.js';
import { requireAdmin, requirePrincipal } from '../authenticate.js';
import { parseInput } from '../validate.js';

const reports = z
  .array(
    z.object({
      token: z.string().min(1).max(4096).describe('the leaked secret'),
      type: z.string().max(100).optional(),
      url: z.string().max(2000).optional().describe('where it was found'),
      source: z.string().max(100).optional(),
    }),
  )
  .min(1)
  .max(1000);

const AdminReport = z.object({ tokens: reports });

/** GitHub's answer format: one entry per reported token, never the token itself. */
const Verdict = z.object({ token_hash: z.string(), token_type: z.string(), label: z.enum(['true_positive', 'false_positive']) });

/** The raw body: the GitHub signature covers exactly these bytes, so it is checked before parsing. */
async function readRaw(ctx: Context, limit: number): Promise<string> {
  if (!ctx.is('application/json')) throw new UnsupportedMediaType('send the report as Content-Type: application/json');
  try {
    return await coBody.text(ctx.req, { limit });
  } catch (err) {
    if ((err as { status?: number }).status === 413) throw new PayloadTooLarge(`request body larger than ${limit} bytes`);
    throw new InvalidRequest('the body could not be read');
  }
}

/** The reports: GitHub sends a bare list, the admin API `{"tokens": [...]}`. */
function parseReports(raw: string, wrapped: boolean): z.output<typeof reports> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidRequest('the body is not valid JSON');
  }
  return wrapped ? parseInput(AdminReport, parsed, 'body').tokens : parseInput(reports, parsed, 'body');
}

export function leakReportRoutes(services: Services, leaks: LeakReports): ApiRouter {
  const limit = Math.max(services.config.server.bodyLimitBytes, 1024 * 1024);
  const router = new ApiRouter({ prefix: '/api/v1', bodyLimit: limit });
  const tag = 'Leaked tokens';

  router.define(
    {
      method: 'post', path: '/leaked-tokens/github', tag, auth: 'none',
      summary: 'GitHub secret scanning partner endpoint',
      description: 'Signed by GitHub (Github-Public-Key-Identifier and Github-Public-Key-Signature headers, checked against GitHub\'s published keys before the report is acted on). Active tokens reported are revoked.',
      request: { body: reports, rawBody: true },
      responses: { 200: { description: 'one verdict per reported token', schema: z.array(Verdict) } },
    },
    [],
    async (ctx) => {
      const raw = await readRaw(ctx, limit);
      leaks.verifyGithub(raw, ctx.get('Github-Public-Key-Identifier') || undefined, ctx.get('Github-Public-Key-Signature') || undefined);
      const outcomes = await leaks.report(parseReports(raw, false), 'GitHub secret scanning');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = outcomes.map((o) => o.verdict);
    },
  );

  router.define(
    {
      method: 'post', path: '/admin/leaked-tokens', tag, auth: 'admin',
      summary: 'Report leaked tokens found anywhere else',
      description: 'Active tokens reported are revoked, and their owners told.',
      request: { body: AdminReport, rawBody: true },
      responses: { 200: { description: 'one result per reported token', schema: z.object({ results: z.array(Verdict.extend({ revoked_token_id: z.string().nullable() })) }) } },
    },
    [requirePrincipal(services), requireAdmin],
    async (ctx) => {
      const list = parseReports(await readRaw(ctx, limit), true);
      const admin = (ctx.state.principal as Principal).user.username;
      const outcomes = await leaks.report(list, `admin ${admin}`);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { results: outcomes.map((o) => ({ ...o.verdict, revoked_token_id: o.revoked ?? null })) };
    },
  );

  return router;
}
