/**
 * `tessera audit`: the audit trail (`GET /api/v1/audit`, admins) or, with `--mine`, the caller's
 * own security log (`GET /api/v1/me/events`). Newest first, one line per event; `--json` prints
 * the events as the API gives them; `--follow` then keeps printing new events as they come, oldest
 * first, like `tail -f`, until interrupted.
 */
import type { Command } from '../context.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { table } from '../output.js';
import { usageOf, type CommandSpec } from '../args.js';

/** `ListedEvent` in src/audit/query.ts (the fields the CLI shows). */
interface Event {
  cursor: string;
  time: string;
  type: string;
  outcome: string;
  reason?: string;
  actor: { credential: string; username?: string; tokenId?: string; clientId?: string };
  target?: { username?: string; userId?: string; tokenId?: string; clientId?: string };
  source?: string;
  ip?: string;
}

interface Page {
  events: Event[];
  next: string | null;
}

const spec: CommandSpec = {
  path: ['audit'],
  summary: 'Show the audit trail (admins), or your own security log with --mine.',
  options: {
    user: { type: 'string', value: 'USER', help: 'events about this user (username or id)' },
    actor: { type: 'string', value: 'USER', help: 'events done by this user' },
    token: { type: 'string', value: 'ID', help: 'events about this token' },
    type: { type: 'string', value: 'PREFIX', help: 'event types starting with PREFIX, e.g. token. or login.failed' },
    since: { type: 'string', value: 'WHEN', help: 'from this time: ISO 8601 or a duration back from now (24h, 7d)' },
    until: { type: 'string', value: 'WHEN', help: 'up to this time' },
    limit: { type: 'string', value: 'N', help: 'at most N events (default 50, up to 200)' },
    before: { type: 'string', value: 'CURSOR', help: 'older events than this cursor (printed after a full page)' },
    mine: { type: 'boolean', help: 'your own security log instead of the whole trail' },
    follow: { type: 'boolean', short: 'f', help: 'keep printing new events until interrupted' },
    interval: { type: 'string', value: 'SECONDS', help: 'with --follow: how often to ask for new events (default 2)' },
  },
};

const who = (p: { username?: string; userId?: string; tokenId?: string; clientId?: string } | undefined, credential?: string): string => {
  if (!p) return '-';
  const name = p.username ?? p.userId ?? (p.clientId ? `client ${p.clientId}` : '');
  const via = credential && credential !== 'anonymous' ? (p.tokenId && credential === 'pat' ? `pat ${p.tokenId}` : credential) : '';
  return [name, via && `(${via})`].filter(Boolean).join(' ') || (credential ?? '-');
};

const what = (e: Event): string => [who(e.target), e.target?.tokenId ? `token ${e.target.tokenId}` : ''].filter((s) => s && s !== '-').join(' ') || '-';

function rows(events: Event[]): string[][] {
  return events.map((e) => [
    e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    e.type,
    e.outcome + (e.reason ? ` (${e.reason})` : ''),
    who(e.actor, e.actor.credential),
    what(e),
    e.ip ?? '-',
  ]);
}

const HEADERS = ['TIME', 'TYPE', 'OUTCOME', 'ACTOR', 'TARGET', 'IP'];

function query(ctx: CliContext, extra: Record<string, string | undefined> = {}) {
  return {
    user: ctx.args.string('user'),
    actor: ctx.args.string('actor'),
    token: ctx.args.string('token'),
    type: ctx.args.string('type'),
    since: ctx.args.string('since'),
    until: ctx.args.string('until'),
    limit: ctx.args.string('limit'),
    before: ctx.args.string('before'),
    ...extra,
  };
}

/** Polls for events newer than `newest`, printing them oldest first, until the process is stopped. */
async function follow(ctx: CliContext, path: string, newest: string | undefined, intervalMs: number): Promise<never> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const fresh: Event[] = [];
    let before: string | undefined;
    do {
      const page: Page = await ctx.client().request<Page>('GET', path, { query: query(ctx, { after: newest, before, limit: '200', since: undefined }) });
      fresh.push(...page.events);
      before = page.next ?? undefined;
    } while (before);
    if (!fresh.length) continue;
    newest = fresh[0]!.cursor;
    fresh.reverse();
    if (ctx.json) for (const e of fresh) ctx.print(JSON.stringify(e));
    else ctx.print(table(HEADERS, rows(fresh)).split('\n').slice(1).join('\n'));
  }
}

const audit: Command = {
  spec,
  async run(ctx) {
    const path = ctx.args.flag('mine') ? '/api/v1/me/events' : '/api/v1/audit';
    const interval = Number(ctx.args.string('interval') ?? '2');
    if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600) throw new UsageError('--interval must be a number of seconds from 0.1 to 3600', usageOf(spec));
    const page = await ctx.client().request<Page>('GET', path, { query: query(ctx) });
    // Oldest first when following, so new lines continue the listing below it.
    const shown = ctx.args.flag('follow') ? [...page.events].reverse() : page.events;
    if (ctx.json) ctx.print(ctx.args.flag('follow') ? shown.map((e) => JSON.stringify(e)).join('\n') : JSON.stringify(page, null, 2));
    else if (shown.length) ctx.print(table(HEADERS, rows(shown)));
    else ctx.note('No events.');
    if (!ctx.args.flag('follow')) {
      if (page.next && !ctx.json) ctx.note(`More: add --before ${page.next}`);
      return;
    }
    await follow(ctx, path, page.events[0]?.cursor ?? '0-0', interval * 1000);
  },
};

export const auditCommands: Command[] = [audit];
