/**
 * `tessera admin revoke-all`: the emergency switch (`POST /api/v1/admin/tokens/revoke-all`). It
 * ends every credential of every user — tokens, login and browser sessions, app grants, SSO
 * logins — and cannot be undone, so it wants the word typed at a terminal, or `--yes`; without
 * a terminal and without `--yes` it refuses (exit 2) rather than let a stray script pull it.
 * `revoke-all-tokens` is its older name.
 */
import { usageOf, type CommandSpec } from '../args.js';
import type { Command } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { count, json } from '../output.js';
import { askLine, interactive } from '../prompt.js';

const CONFIRMATION = 'revoke-all';

interface Revoked {
  users: number;
  tokens: number;
  sessions: number;
  grants: number;
}

function revokeAllCommand(name: string): Command {
  const spec: CommandSpec = {
    path: ['admin', name],
    summary: 'Emergency: end every credential of every user (tokens, login sessions, app grants, SSO logins; admins).',
    options: { yes: { type: 'boolean', short: 'y', help: `do not ask to type "${CONFIRMATION}"` } },
  };
  return {
    spec,
    async run(ctx) {
      const client = ctx.client();
      if (!ctx.args.flag('yes')) {
        if (!interactive(ctx.io)) throw new UsageError('refusing without confirmation: stdin is not a terminal; pass --yes', usageOf(spec));
        ctx.note(`This ends EVERY token, login session and app grant of EVERY user on ${client.server}, yours included. It cannot be undone.`);
        const typed = await askLine(ctx.io, `Type "${CONFIRMATION}" to go on: `);
        if (typed.trim() !== CONFIRMATION) throw new CliError(`that was not "${CONFIRMATION}": nothing revoked`);
      }
      const answer = await client.request<Revoked>('POST', '/api/v1/admin/tokens/revoke-all', { body: { confirm: CONFIRMATION } });
      ctx.print(
        ctx.json
          ? json(answer)
          : `Revoked ${count(answer.tokens, 'token')}, ${count(answer.sessions, 'session')} and ${count(answer.grants, 'app grant')} of ${count(answer.users, 'user')}. Sign in again to go on.`,
      );
    },
  };
}

export const adminCommands: Command[] = [revokeAllCommand('revoke-all'), revokeAllCommand('revoke-all-tokens')];
