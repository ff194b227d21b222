/**
 * `tessera scope list`: the declared scope vocabulary (`GET /api/v1/scopes`), to pick the
 * `--scope` values of `tessera token create`.
 */
import type { Command } from '../context.js';
import { json, table } from '../output.js';

/** The answer of `GET /api/v1/scopes` (src/http/routes/scope-routes.ts). */
interface ScopeList {
  scopes: { name: string; description: string; pattern: boolean }[];
  allow_undeclared: boolean;
}

const list: Command = {
  spec: { path: ['scope', 'list'], summary: 'List the scopes tokens may carry, with what each allows.' },
  async run(ctx) {
    const answer = await ctx.client().request<ScopeList>('GET', '/api/v1/scopes');
    if (ctx.json) return ctx.print(json(answer));
    if (answer.scopes.length) ctx.print(table(['SCOPE', 'DESCRIPTION'], answer.scopes.map((s) => [s.name, s.description])));
    else ctx.note('No scopes are declared.');
    ctx.note(answer.allow_undeclared ? 'Other scopes are accepted too.' : 'Other scopes are refused.');
  },
};

export const scopeCommands: Command[] = [list];
