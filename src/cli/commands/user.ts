/**
 * `tessera user list|add|set|disable|delete`: built-in user management over `/api/v1/users`
 * (admins only; the gateway refuses everyone else with 403, exit 3). Passwords never go on the
 * command line, where `ps` and shell history would keep them: they are asked for, or read from
 * stdin with `--password-stdin`.
 */
import { usageOf, type CommandSpec, type Options } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { fields, json, relative, table } from '../output.js';
import { askLine, askSecret, interactive, readStdin } from '../prompt.js';

/** `presentUser` in src/http/presenters.ts. */
export interface User {
  id: string;
  username: string;
  display_name: string;
  email: string;
  role: 'admin' | 'normal';
  enabled: boolean;
  source: string;
  groups: string[];
  token_creator: boolean;
  created_at: string;
  updated_at: string;
}

const path = (name: string) => `/api/v1/users/${encodeURIComponent(name)}`;

const profileOptions: Options = {
  role: { type: 'string', value: 'ROLE', help: 'admin or normal' },
  'display-name': { type: 'string', value: 'NAME', help: 'name shown in the web pages' },
  email: { type: 'string', value: 'EMAIL', help: 'e-mail address' },
  'password-stdin': { type: 'boolean', help: 'read the password from stdin' },
};

/** The fields of `--role`, `--display-name`, `--email` that were given. */
function profile(ctx: CliContext, usage: string) {
  const role = ctx.args.string('role');
  if (role !== undefined && role !== 'admin' && role !== 'normal') throw new UsageError(`--role must be admin or normal, not ${role}`, usage);
  return { role, display_name: ctx.args.string('display-name'), email: ctx.args.string('email') };
}

async function newPassword(ctx: CliContext, usage: string): Promise<string> {
  if (ctx.args.flag('password-stdin')) {
    const password = await readStdin(ctx.io);
    if (!password) throw new UsageError('the password on stdin is empty', usage);
    return password;
  }
  if (!interactive(ctx.io)) throw new UsageError('give --password-stdin: stdin is not a terminal, so the password cannot be asked for', usage);
  const password = await askSecret(ctx.io, 'New password: ');
  if (password !== (await askSecret(ctx.io, 'Repeat it: '))) throw new UsageError('the passwords differ', usage);
  return password;
}

const list: Command = {
  spec: {
    path: ['user', 'list'],
    summary: 'List users from every identity source (admins).',
    options: { search: { type: 'string', value: 'TEXT', help: 'only users whose name, display name or e-mail contains TEXT' } },
  },
  async run(ctx) {
    // The gateway answers by page: follow `next` to the end.
    const answer: { users: User[] } = { users: [] };
    let cursor: string | undefined;
    do {
      const page = await ctx.client().request<{ users: User[]; next?: string }>('GET', '/api/v1/users', { query: { q: ctx.args.string('search'), limit: '1000', cursor } });
      answer.users.push(...page.users);
      cursor = page.next;
    } while (cursor);
    if (ctx.json) return ctx.print(json(answer));
    if (!answer.users.length) return ctx.note('No users.');
    const now = Date.now();
    const rows = answer.users.map((u) => [u.username, u.role, u.source, u.enabled ? 'yes' : 'no', u.display_name, u.email, relative(u.created_at, now)]);
    ctx.print(table(['USERNAME', 'ROLE', 'SOURCE', 'ENABLED', 'DISPLAY NAME', 'EMAIL', 'CREATED'], rows));
  },
};

const addSpec: CommandSpec = {
  path: ['user', 'add'],
  summary: 'Create a built-in user (admins). The password is asked for, or read with --password-stdin.',
  args: 'NAME',
  arity: [1, 1],
  options: profileOptions,
};

const add: Command = {
  spec: addSpec,
  async run(ctx) {
    const usage = usageOf(addSpec);
    const fields = profile(ctx, usage);
    const username = ctx.args.positionals[0]!;
    const user = await ctx.client().request<User>('POST', '/api/v1/users', { body: { username, password: await newPassword(ctx, usage), ...fields } });
    ctx.print(ctx.json ? json(user) : `Created user ${user.username} (${user.role}).`);
  },
};

const setSpec: CommandSpec = {
  path: ['user', 'set'],
  summary: 'Change a built-in user (admins): role, names, password, or --enable a disabled one.',
  args: 'NAME',
  arity: [1, 1],
  options: { ...profileOptions, enable: { type: 'boolean', help: 'enable the user again' } },
};

const set: Command = {
  spec: setSpec,
  async run(ctx) {
    const usage = usageOf(setSpec);
    const body: Record<string, unknown> = { ...profile(ctx, usage), enabled: ctx.args.flag('enable') ? true : undefined };
    if (ctx.args.flag('password-stdin')) body.password = await newPassword(ctx, usage);
    if (Object.values(body).every((v) => v === undefined)) throw new UsageError('nothing to change', usage);
    const user = await ctx.client().request<User>('PATCH', path(ctx.args.positionals[0]!), { body });
    ctx.print(ctx.json ? json(user) : `Updated user ${user.username}.`);
  },
};

const disable: Command = {
  spec: {
    path: ['user', 'disable'],
    summary: 'Disable a user (admins): their logins end and their tokens stop working until `user set --enable`.',
    args: 'NAME',
    arity: [1, 1],
  },
  async run(ctx) {
    const user = await ctx.client().request<User>('PATCH', path(ctx.args.positionals[0]!), { body: { enabled: false } });
    ctx.print(ctx.json ? json(user) : `Disabled user ${user.username}.`);
  },
};

const deleteSpec: CommandSpec = {
  path: ['user', 'delete'],
  summary: 'Delete a user and everything they own (admins). Asks first unless --yes.',
  args: 'NAME',
  arity: [1, 1],
  options: { yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation' } },
};

const remove: Command = {
  spec: deleteSpec,
  async run(ctx) {
    const username = ctx.args.positionals[0]!;
    if (!ctx.args.flag('yes')) {
      if (!interactive(ctx.io)) throw new UsageError('refusing to delete without confirmation: stdin is not a terminal; pass --yes', usageOf(deleteSpec));
      const answer = await askLine(ctx.io, `Delete user ${username} and all their tokens? [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not confirmed: nothing deleted');
    }
    await ctx.client().request('DELETE', path(username));
    ctx.print(ctx.json ? json({ deleted: username }) : `Deleted user ${username}.`);
  },
};

const show: Command = {
  spec: { path: ['user', 'show'], summary: 'Show one user: source, role, groups, status, token permission.', args: 'NAME', arity: [1, 1] },
  async run(ctx) {
    const user = await ctx.client().request<User>('GET', path(ctx.args.positionals[0]!));
    if (ctx.json) return ctx.print(json(user));
    ctx.print(
      fields([
        ['Username', user.username],
        ['Id', user.id],
        ['Display name', user.display_name],
        ['Email', user.email],
        ['Source', user.source],
        ['Role', user.role],
        ['Status', user.enabled ? 'enabled' : 'disabled'],
        ['Groups', user.groups.length ? user.groups.join(', ') : '-'],
        ['Token creator', user.token_creator ? 'yes' : 'no'],
        ['Created', user.created_at],
        ['Updated', user.updated_at],
      ]),
    );
  },
};

export const userCommands: Command[] = [list, show, add, set, disable, remove];
