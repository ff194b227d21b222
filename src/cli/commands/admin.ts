/**
 * `tessera admin revoke-all-tokens`: the emergency switch (`POST /api/v1/admin/tokens/revoke-all`).
 * It cannot be undone, so it wants the word typed at a terminal, or `--yes`; without a terminal
 * and without `--yes` it refuses (exit 2) rather than let a stray script pull it.
 */
import { usageOf, type CommandSpec } from '../args.js';
import type { Command } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { count, json } from '../output.js';
import { askLine, interactive } from '../prompt.js';

const CONFIRMATION = 'revoke-all';

const spec: CommandSpec = {
  path: ['admin', 'revoke-all-tokens'],
  summary: 'Revoke every personal access token of every user (admins). Login sessions are not affected.',
  options: { yes: { type: 'boolean', short: 'y', help: `do not ask to type "${CONFIRMATION}"` } },
};

const revokeAllTokens: Command = {
  spec,
  async run(ctx) {
    const client = ctx.client();
    if (!ctx.args.flag('yes')) {
      if (!interactive(ctx.io)) throw new UsageError('refusing without confirmation: stdin is not a terminal; pass --yes', usageOf(spec));
      ctx.note(`This revokes EVERY personal access token of EVERY user on ${client.server}. It cannot be undone.`);
      const typed = await askLine(ctx.io, `Type "${CONFIRMATION}" to go on: `);
      if (typed.trim() !== CONFIRMATION) throw new CliError(`that was not "${CONFIRMATION}": nothing revoked`);
    }
    const answer = await client.request<{ users: number; tokens: number }>('POST', '/api/v1/admin/tokens/revoke-all', { body: { confirm: CONFIRMATION } });
    ctx.print(ctx.json ? json(answer) : `Revoked ${count(answer.tokens, 'token')} of ${count(answer.users, 'user')}.`);
  },
};

export const adminCommands: Command[] = [revokeAllTokens];
