/**
 * `tessera token report-leak`: an admin passes on leaked tokens found anywhere (a paste site, a
 * log, a scanner other than GitHub's). Tokens are read from stdin, one per line, never from the
 * command line, where they would land in shell history and process listings.
 */
import { usageOf, type CommandSpec } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';
import { json } from '../output.js';
import { readStdin } from '../prompt.js';

interface LeakResult {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
  revoked_token_id: string | null;
}

const reportSpec: CommandSpec = {
  path: ['token', 'report-leak'],
  summary: 'Report leaked tokens (read from stdin, one per line): every active one is revoked at once (admins).',
  options: {
    url: { type: 'string', value: 'URL', help: 'where the tokens were found; recorded as the revocation reason' },
    source: { type: 'string', value: 'TEXT', help: 'what kind of place, e.g. paste, log, chat' },
  },
  notes: ['Example:', '  grep -ho "tsr_[0-9A-Za-z]\\{50\\}" build.log | tessera token report-leak --url https://ci.example.org/jobs/42 --source log'],
};

const reportLeak: Command = {
  spec: reportSpec,
  async run(ctx) {
    const tokens = [...new Set((await readStdin(ctx.io)).split(/\s+/).filter(Boolean))];
    if (!tokens.length) throw new UsageError('no tokens on stdin', usageOf(reportSpec));
    const url = ctx.args.string('url');
    const source = ctx.args.string('source');
    const { results } = await ctx.client().request<{ results: LeakResult[] }>('POST', '/api/v1/admin/leaked-tokens', {
      body: { tokens: tokens.map((token) => ({ token, url, source })) },
    });
    if (ctx.json) return ctx.print(json({ results }));
    ctx.print(
      results
        .map((r, i) => {
          const shown = `${tokens[i]!.slice(0, 8)}…`; // never print a whole secret back
          if (r.revoked_token_id) return `${shown} revoked (token ${r.revoked_token_id})`;
          return r.label === 'true_positive' ? `${shown} is Tessera's, already inactive` : `${shown} is not an issued Tessera token`;
        })
        .join('\n'),
    );
  },
};

export const leakReportCommands: Command[] = [reportLeak];
