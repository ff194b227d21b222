/**
 * `tessera session list|revoke`: running sign-ins (API logins, browser sessions, SSO logins,
 * applications signed in through Tessera's OpenID Provider) over
 * `/api/v1/me/sessions`, or another user's with `--user` (admins, `/api/v1/users/{u}/sessions`).
 */
import { userSubject, type CommandSpec } from '../args.js';
import type { Command } from '../context.js';
import { json, relative, table } from '../output.js';

/** `presentSession` in src/http/login-session-presenter.ts. */
interface Session {
  id: string;
  kind: 'api' | 'browser' | 'sso' | 'oidc-client';
  created_at: string;
  last_refresh_at: string | null;
  ip: string | null;
  user_agent: string | null;
  source: string;
  current: boolean;
  client_name?: string;
}

const KIND = { api: 'api login', browser: 'browser', sso: 'sso', 'oidc-client': 'application' } as const;

const base = (user: string | undefined) => (user ? `/api/v1/users/${encodeURIComponent(user)}/sessions` : '/api/v1/me/sessions');
const userOption = { user: { type: 'string' as const, value: 'USER', help: 'another user\'s sessions (admins)' } };

const listSpec: CommandSpec = {
  path: ['session', 'list'],
  summary: 'List running sign-ins: API logins, browser sessions, SSO logins and applications. USER (or --user): another user\'s (admins).',
  args: '[USER]',
  arity: [0, 1],
  options: userOption,
};

const list: Command = {
  spec: listSpec,
  async run(ctx) {
    const answer = await ctx.client().request<{ sessions: Session[] }>('GET', base(userSubject(ctx.args, listSpec)));
    if (ctx.json) return ctx.print(json(answer));
    if (!answer.sessions.length) return ctx.note('No running sessions.');
    const now = Date.now();
    const rows = answer.sessions.map((s) => [s.id, KIND[s.kind] ?? s.kind, s.ip ?? '-', relative(s.created_at, now), relative(s.last_refresh_at, now), (s.client_name ?? s.user_agent ?? '-').slice(0, 40), s.current ? '*' : '']);
    ctx.print(table(['ID', 'KIND', 'FROM', 'STARTED', 'LAST REFRESH', 'CLIENT', 'CURRENT'], rows));
  },
};

const revoke: Command = {
  spec: { path: ['session', 'revoke'], summary: 'Sign sessions out.', args: 'ID...', arity: [1, 100], options: userOption },
  async run(ctx) {
    for (const id of ctx.args.positionals) {
      await ctx.client().request('DELETE', `${base(ctx.args.string('user'))}/${encodeURIComponent(id)}`);
      ctx.note(`Signed out session ${id}.`);
    }
  },
};

export const sessionCommands: Command[] = [list, revoke];
