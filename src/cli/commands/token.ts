/**
 * `tessera token create|list|describe|edit|revoke`: personal access tokens over
 * `/api/v1/tokens`. The gateway enforces every rule (who may act on whose tokens, scopes,
 * lifetimes); the CLI only checks the command line and prints.
 */
import { formatDuration } from '../../config/duration.js';
import { durationFlag, usageOf, userSubject, type CommandSpec } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { count, fields, json, moment, relative, table } from '../output.js';
import { inCliTerms } from '../limits.js';
import { resolveTokenIds } from '../token-ids.js';

/** `presentToken` in src/http/presenters.ts. */
export interface Token {
  id: string;
  name: string;
  description: string;
  user: string;
  user_source: string;
  scopes: string[];
  expiration: 'hard' | 'sliding';
  status: 'active' | 'expired' | 'revoked';
  created_at: string;
  created_by: string;
  expires_at: string;
  /** Seconds. */
  sliding_window: number | null;
  max_lifetime_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

interface CreatedToken extends Token {
  token: string;
  evicted: string[];
  warning?: string;
}

const path = (id: string) => `/api/v1/tokens/${encodeURIComponent(id)}`;
const scopesOf = (t: Token) => (t.scopes.length ? t.scopes.join(' ') : 'all');

/**
 * Runs `fn` for each id, like `kubectl delete a b c`: a failure on one is reported and the rest
 * still run; `failure` then carries the worst exit code. A single id simply throws.
 */
async function forEachId<T>(ctx: CliContext, ids: string[], fn: (id: string) => Promise<T>): Promise<{ done: T[]; failure?: CliError }> {
  const settled = await Promise.allSettled(ids.map(fn));
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  if (ids.length === 1 && errors.length) throw errors[0];
  for (const err of errors) ctx.note(`tessera: ${err.message}`);
  const done = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (!errors.length) return { done };
  const exitCode = Math.max(...errors.map((err) => (err instanceof CliError ? err.exitCode : 1)));
  return { done, failure: new CliError(`${errors.length} of ${ids.length} failed`, exitCode) };
}

const createSpec: CommandSpec = {
  path: ['token', 'create'],
  summary: 'Create a personal access token, for yourself or (admins) for --user. The token is shown once.',
  options: {
    name: { type: 'string', value: 'NAME', help: 'what the token is for (required)' },
    description: { type: 'string', value: 'TEXT', help: 'longer description' },
    user: { type: 'string', value: 'USER', help: 'owner of the token (admins; default: you)' },
    ttl: { type: 'string', value: 'DURATION', help: 'lifetime, e.g. 90d (default: the gateway\'s, usually 30d)' },
    expires: { type: 'string', value: 'DATE', help: 'expiry instead of --ttl, e.g. 2026-01-31 or 2026-01-31T18:00:00Z' },
    'auto-refresh': { type: 'string', value: 'DURATION', help: 'sliding expiry: each use extends the token by this window, e.g. 7d' },
    'max-lifetime': { type: 'string', value: 'DURATION', help: 'with --auto-refresh: the limit it can never pass, e.g. 90d' },
    scope: { type: 'string', multiple: true, value: 'SCOPE', help: 'limit the token, e.g. read or resource:models:r (default: full rights)' },
    quiet: { type: 'boolean', short: 'q', help: 'print only the token, for scripts' },
  },
  notes: ['Examples:', '  tessera token create --name ci --ttl 90d --scope resource:models:r', '  TOKEN=$(tessera token create --name deploy --auto-refresh 7d --max-lifetime 90d --quiet)'],
};

const create: Command = {
  spec: createSpec,
  async run(ctx) {
    const { args } = ctx;
    const usage = usageOf(createSpec);
    const name = args.string('name');
    if (!name) throw new UsageError('missing --name', usage);
    const sliding = args.string('auto-refresh') !== undefined || args.string('max-lifetime') !== undefined;
    const hard = args.string('ttl') !== undefined || args.string('expires') !== undefined;
    if (args.string('ttl') !== undefined && args.string('expires') !== undefined) throw new UsageError('give --ttl or --expires, not both', usage);
    if (sliding && hard) throw new UsageError('--auto-refresh/--max-lifetime and --ttl/--expires are different kinds of expiry: pick one', usage);
    if (args.flag('quiet') && ctx.json) throw new UsageError('give --quiet or --json, not both', usage);
    let expiresAt: string | undefined;
    const expires = args.string('expires');
    if (expires !== undefined) {
      const at = Date.parse(expires);
      if (!Number.isFinite(at)) throw new UsageError(`--expires: not a date: ${expires} (e.g. 2026-01-31 or 2026-01-31T18:00:00Z)`, usage);
      expiresAt = new Date(at).toISOString();
    }
    const body = {
      name,
      description: args.string('description'),
      user: args.string('user'),
      expires_in: durationFlag(args.string('ttl'), 'ttl', usage),
      expires_at: expiresAt,
      expiration: sliding ? 'sliding' : undefined,
      sliding_window: durationFlag(args.string('auto-refresh'), 'auto-refresh', usage),
      max_lifetime: durationFlag(args.string('max-lifetime'), 'max-lifetime', usage),
      scopes: args.strings('scope').flatMap((s) => s.split(/\s+/)).filter(Boolean),
    };

    const created = await ctx
      .client()
      .request<CreatedToken>('POST', '/api/v1/tokens', { body })
      .catch((err: unknown) => {
        throw inCliTerms(err, { expires_in: ['--ttl', args.string('ttl')], expires_at: ['--expires', expires], max_lifetime: ['--max-lifetime', args.string('max-lifetime')] });
      });
    if (args.flag('quiet')) ctx.print(created.token);
    else if (ctx.json) ctx.print(json(created));
    else {
      const expiry = created.expiration === 'sliding' ? `expires ${relative(created.expires_at, Date.now())} unless used, at the latest ${relative(created.max_lifetime_at, Date.now())}` : `expires ${moment(created.expires_at, Date.now())}`;
      ctx.print(`Created token ${created.id} "${created.name}" for ${created.user}; ${expiry}.\n\n    ${created.token}\n\n${ctx.paint('yellow', created.warning ?? 'Store this token now: it is shown only once.')}`);
    }
    if (created.evicted.length) ctx.note(`warning: ${created.user} had too many tokens; the gateway revoked the oldest: ${created.evicted.join(', ')}`);
  },
};

const listSpec: CommandSpec = {
  path: ['token', 'list'],
  summary: 'List personal access tokens: your active ones unless flags say otherwise; USER (or --user): another user\'s (admins).',
  args: '[USER]',
  arity: [0, 1],
  options: {
    user: { type: 'string', value: 'USER', help: 'another user\'s tokens (admins)' },
    'all-users': { type: 'boolean', short: 'A', help: 'every user\'s tokens (admins)' },
    all: { type: 'boolean', short: 'a', help: 'include revoked and expired tokens' },
    revoked: { type: 'boolean', help: 'include revoked tokens' },
    expired: { type: 'boolean', help: 'include expired tokens' },
    limit: { type: 'string', value: 'N', help: 'show at most N tokens (default: every page)' },
  },
};

const list: Command = {
  spec: listSpec,
  async run(ctx) {
    const { args } = ctx;
    const user = userSubject(args, listSpec);
    if (user && args.flag('all-users')) throw new UsageError('give a user or --all-users, not both', usageOf(listSpec));
    const include = [args.flag('all') || args.flag('revoked') ? 'revoked' : '', args.flag('all') || args.flag('expired') ? 'expired' : ''].filter(Boolean);
    const limitText = args.string('limit');
    if (limitText !== undefined && !/^[1-9]\d{0,6}$/.test(limitText)) throw new UsageError('--limit takes a whole number of tokens, at least 1', usageOf(listSpec));
    const limit = limitText === undefined ? Infinity : Number(limitText);
    // The gateway answers one user's tokens by page: follow `next` until done or --limit is met.
    const answer: { tokens: Token[] } = { tokens: [] };
    let cursor: string | undefined;
    do {
      const page = await ctx.client().request<{ tokens: Token[]; next?: string }>('GET', '/api/v1/tokens', {
        query: {
          user,
          all: args.flag('all-users') ? 'true' : undefined,
          include: include.join(',') || undefined,
          limit: String(Math.min(1000, limit - answer.tokens.length)),
          cursor,
        },
      });
      answer.tokens.push(...page.tokens.slice(0, limit - answer.tokens.length));
      cursor = page.next;
    } while (cursor && answer.tokens.length < limit);
    if (ctx.json) return ctx.print(json(answer));
    if (!answer.tokens.length) return ctx.note('No tokens.');
    const now = Date.now();
    const paint = ctx.paint;
    const status = (t: Token) => paint(t.status === 'active' ? 'green' : t.status === 'revoked' ? 'red' : 'yellow', t.status);
    const rows = answer.tokens.map((t) => [t.id, t.name, t.user, status(t), t.status === 'revoked' ? '-' : relative(t.expires_at, now), relative(t.last_used_at, now), scopesOf(t)]);
    ctx.print(table(['ID', 'NAME', 'USER', 'STATUS', 'EXPIRES', 'LAST USED', 'SCOPES'], rows));
  },
};

function describeToken(t: Token, now: number): string {
  const expiry =
    t.expiration === 'sliding'
      ? [
          ['Expiration', `sliding: each use extends it by ${formatDuration((t.sliding_window ?? 0) * 1000)}`] as [string, string],
          ['Expires', moment(t.expires_at, now)] as [string, string],
          ['Max lifetime', moment(t.max_lifetime_at, now)] as [string, string],
        ]
      : [['Expires', moment(t.expires_at, now)] as [string, string]];
  return fields([
    ['ID', t.id],
    ['Name', t.name],
    ['Description', t.description],
    ['User', `${t.user} (${t.user_source})`],
    ['Status', t.status],
    ['Scopes', t.scopes.length ? t.scopes.join(' ') : 'all (full rights of the user)'],
    ['Created', `${moment(t.created_at, now)} by ${t.created_by}`],
    ...expiry,
    ['Last used', t.last_used_at ? `${moment(t.last_used_at, now)}${t.last_used_ip ? ` from ${t.last_used_ip}` : ''}` : 'never'],
    ['Revoked', t.revoked_at ? `${moment(t.revoked_at, now)} by ${t.revoked_by}` : undefined],
  ]);
}

const describe: Command = {
  spec: { path: ['token', 'describe'], summary: 'Show everything about tokens (never their secret).', args: 'ID...', arity: [1, 100] },
  async run(ctx) {
    const ids = await resolveTokenIds(ctx, ctx.args.positionals);
    const { done, failure } = await forEachId(ctx, ids, (id) => ctx.client().request<Token>('GET', path(id)));
    if (ctx.json) ctx.print(json(ids.length === 1 ? done[0] : { tokens: done }));
    else ctx.print(done.map((t) => describeToken(t, Date.now())).join('\n\n'));
    if (failure) throw failure;
  },
};

const editSpec: CommandSpec = {
  path: ['token', 'edit'],
  summary: 'Rename a token or change its description. Nothing else about a token can change.',
  args: 'ID',
  arity: [1, 1],
  options: {
    name: { type: 'string', value: 'NAME', help: 'new name' },
    description: { type: 'string', value: 'TEXT', help: 'new description ("" clears it)' },
  },
};

const edit: Command = {
  spec: editSpec,
  async run(ctx) {
    const { args } = ctx;
    const body = { name: args.string('name'), description: args.string('description') };
    if (body.name === undefined && body.description === undefined) throw new UsageError('nothing to change: give --name and/or --description', usageOf(editSpec));
    const [id] = await resolveTokenIds(ctx, args.positionals);
    const token = await ctx.client().request<Token>('PATCH', path(id!), { body });
    ctx.print(ctx.json ? json(token) : `Updated token ${token.id} "${token.name}".`);
  },
};

const revokeSpec: CommandSpec = {
  path: ['token', 'revoke'],
  summary: 'Revoke tokens by id, or every credential of a user with --all USER (or --all --user USER): tokens, logins, app grants.',
  args: '[ID... | --all USER]',
  arity: [0, 100],
  options: {
    all: { type: 'boolean', help: 'every credential of USER (or --user): tokens, login sessions, app grants' },
    user: { type: 'string', value: 'USER', help: 'with --all: whose tokens (yourself, or anyone for admins)' },
  },
};

const revoke: Command = {
  spec: revokeSpec,
  async run(ctx) {
    const { args } = ctx;
    const usage = usageOf(revokeSpec);
    if (args.flag('all')) {
      if (args.positionals.length > 1) throw new UsageError('--all takes one user, not token ids', usage);
      const user = userSubject(args, revokeSpec);
      // Named explicitly: a bare --all is too easy to type by accident.
      if (!user) throw new UsageError('--all needs a user: --all USER', usage);
      const answer = await ctx.client().request<{ tokens: number; sessions: number; grants: number }>('DELETE', `/api/v1/users/${encodeURIComponent(user)}/tokens`);
      return ctx.print(ctx.json ? json(answer) : `Revoked ${count(answer.tokens, 'token')}, ${count(answer.sessions, 'session')} and ${count(answer.grants, 'app grant')} of ${user}.`);
    }
    if (args.string('user')) throw new UsageError('--user goes with --all', usage);
    if (!args.positionals.length) throw new UsageError('missing ID...', usage);
    const ids = await resolveTokenIds(ctx, args.positionals);
    const { done, failure } = await forEachId(ctx, ids, (id) => ctx.client().request<Token>('DELETE', path(id)));
    if (ctx.json) ctx.print(json(args.positionals.length === 1 ? done[0] : { tokens: done }));
    else ctx.print(done.map((t) => `Revoked token ${t.id} "${t.name}" of ${t.user}.`).join('\n'));
    if (failure) throw failure;
  },
};

const rotate: Command = {
  spec: {
    path: ['token', 'rotate'],
    summary: 'Regenerate a token: a new secret with the same name, scopes and expiry policy; the old secret stops working (now, or after --grace).',
    args: 'ID',
    arity: [1, 1],
    options: {
      quiet: { type: 'boolean', short: 'q', help: 'print only the new token, for scripts' },
      grace: { type: 'string', value: 'DURATION', help: 'keep the old secret working this long (e.g. 1h; at most tokens.rotationGraceMax)' },
    },
  },
  async run(ctx) {
    const [id] = await resolveTokenIds(ctx, ctx.args.positionals);
    const grace = ctx.args.string('grace');
    const rotated = await ctx.client().request<CreatedToken>('POST', `${path(id!)}/rotate`, grace === undefined ? {} : { body: { grace } });
    if (ctx.args.flag('quiet')) return ctx.print(rotated.token);
    if (ctx.json) return ctx.print(json(rotated));
    ctx.print(`Rotated token ${id} into ${rotated.id} "${rotated.name}"; expires ${moment(rotated.expires_at, Date.now())}.\n\n    ${rotated.token}\n\n${ctx.paint('yellow', rotated.warning ?? 'Store this token now: it is shown only once.')}`);
  },
};

export const tokenCommands: Command[] = [create, list, describe, edit, revoke, rotate];
