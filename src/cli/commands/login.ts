/**
 * `tessera login`, `logout`, `whoami`: getting, dropping and showing the credentials every other
 * command uses. Password logins keep the gateway's rotating refresh token (`client.ts` renews the
 * access token); `--token` keeps a personal access token as is; `--sso` runs the device flow.
 */
import { usageOf, type CommandSpec } from '../args.js';
import { sessionFromTokens, type LoginTokens } from '../client.js';
import type { CliContext, Command } from '../context.js';
import type { Credential } from '../credentials.js';
import { CLI_CLIENT_ID, discoverDeviceEndpoints, pollForTokens, requestDeviceCode } from '../device-flow.js';
import { UsageError } from '../errors.js';
import { fields, json } from '../output.js';
import { askLine, askSecret, interactive, readStdin } from '../prompt.js';
import type { User } from './user.js';
import { exchangeIdentityToken, readIdentityToken } from '../workload-login.js';

/** `GET /api/v1/me`: the user record plus how this request authenticated. */
export interface Me extends User {
  authenticated_with: 'login' | 'sso_login' | 'personal_access_token';
  token_id: string | null;
  scopes: string[] | null;
}

const loginSpec: CommandSpec = {
  path: ['login'],
  summary: 'Log in to a gateway; later commands use the stored credentials.',
  options: {
    username: { type: 'string', short: 'u', value: 'NAME', help: 'user name (asked for when absent)' },
    'password-stdin': { type: 'boolean', help: 'read the password from stdin instead of asking' },
    source: { type: 'string', value: 'ID', help: 'identity source that checks the password (default: the gateway tries each)' },
    token: { type: 'string', value: 'PAT', help: 'log in with a personal access token; "-" reads it from stdin' },
    sso: { type: 'boolean', help: 'log in in a browser, with the OAuth device flow' },
    'oidc-token-file': { type: 'string', value: 'FILE', help: 'inside a CI job or pod: exchange the workload identity token in FILE for a short-lived token' },
    'oidc-token-env': { type: 'string', value: 'VAR', help: 'the same, with the identity token in environment variable VAR' },
    scope: { type: 'string', value: 'SCOPES', help: 'with --oidc-token-*: ask for fewer scopes than the matching rule grants' },
  },
  notes: [
    'Examples:',
    '  tessera login --server https://tessera.example.com',
    '  echo "$PASSWORD" | tessera login --server https://tessera.example.com -u alice --password-stdin',
    '  tessera login --token -  < token.txt',
    '  tessera login --server https://tessera.example.com --oidc-token-env CI_JOB_JWT   # in a CI job',
    '',
    'TESSERA_TOKEN=<token> overrides stored credentials for any command, without logging in.',
  ],
};

function whichServer(ctx: CliContext): string {
  const server = ctx.serverOrNull();
  if (!server) throw new UsageError('which gateway? give --server URL (or set TESSERA_SERVER)', usageOf(loginSpec));
  if (server.startsWith('http://') && !/^http:\/\/(localhost|127\.|\[::1\])/.test(server)) {
    ctx.note(`warning: ${server} is plain http: passwords and tokens cross the network unencrypted`);
  }
  return server;
}

async function loginWithToken(ctx: CliContext, server: string, raw: string): Promise<void> {
  const token = raw === '-' ? (await readStdin(ctx.io)).trim() : raw;
  if (!token) throw new UsageError('the token is empty', usageOf(loginSpec));
  const me = await ctx.client().call<Me>('GET', '/api/v1/me', { bearer: token });
  if (me.authenticated_with !== 'personal_access_token') {
    ctx.note('warning: this is not a personal access token; it expires within minutes and cannot be renewed');
  }
  ctx.store.put(server, { kind: 'pat', username: me.username, token, token_id: me.token_id ?? undefined }, true);
  ctx.print(`Logged in to ${server} as ${me.username} (personal access token${me.token_id ? ` ${me.token_id}` : ''}).`);
}

/** RFC 8693: the job's identity token becomes a short-lived PAT, kept like `--token`. */
async function loginWithWorkloadIdentity(ctx: CliContext, server: string): Promise<void> {
  const idToken = readIdentityToken({ file: ctx.args.string('oidc-token-file'), env: ctx.args.string('oidc-token-env') }, ctx.env);
  const issued = await exchangeIdentityToken(server, idToken, ctx.args.string('scope'));
  const me = await ctx.client().call<Me>('GET', '/api/v1/me', { bearer: issued.access_token });
  ctx.store.put(server, { kind: 'pat', username: me.username, token: issued.access_token, token_id: me.token_id ?? undefined }, true);
  ctx.print(`Logged in to ${server} as ${me.username} (workload token ${me.token_id ?? ''}, scopes ${issued.scope}, expires in ${Math.round(issued.expires_in / 60)} min).`);
}

async function loginWithPassword(ctx: CliContext, server: string): Promise<void> {
  const usage = usageOf(loginSpec);
  let username = ctx.args.string('username');
  if (!username) {
    if (!interactive(ctx.io)) throw new UsageError('give --username: stdin is not a terminal, so it cannot be asked for', usage);
    username = (await askLine(ctx.io, 'Username: ')).trim();
  }
  let password: string;
  if (ctx.args.flag('password-stdin')) password = await readStdin(ctx.io);
  else if (interactive(ctx.io)) password = await askSecret(ctx.io, 'Password: ');
  else throw new UsageError('give --password-stdin: stdin is not a terminal, so the password cannot be asked for', usage);
  if (!username || !password) throw new UsageError('username and password must not be empty', usage);

  const client = ctx.client();
  const started = Date.now();
  const device_token = ctx.store.deviceToken(server);
  const tokens = await client.call<LoginTokens>('POST', '/api/v1/login', { body: { username, password, source: ctx.args.string('source'), device_token } });
  // The gateway's spelling of the name, which may differ in case from what was typed.
  const me = await client.call<Me>('GET', '/api/v1/me', { bearer: tokens.access_token });
  ctx.store.put(server, sessionFromTokens(me.username, tokens, started), true);
  if (tokens.device_token) ctx.store.rememberDevice(server, tokens.device_token);
  ctx.print(`Logged in to ${server} as ${me.username}.`);
}

async function loginWithDeviceFlow(ctx: CliContext, server: string): Promise<void> {
  const endpoints = await discoverDeviceEndpoints(server);
  const authorization = await requestDeviceCode(endpoints);
  ctx.note(`To log in, open ${authorization.verification_uri} in a browser and enter the code ${authorization.user_code}`);
  if (authorization.verification_uri_complete) ctx.note(`(or open ${authorization.verification_uri_complete})`);
  ctx.note('Waiting for approval...');
  const started = Date.now();
  const tokens = await pollForTokens(endpoints.token_endpoint, authorization);
  const me = await ctx.client().call<Me>('GET', '/api/v1/me', { bearer: tokens.access_token });
  ctx.store.put(
    server,
    {
      kind: 'device',
      username: me.username,
      access_token: tokens.access_token,
      access_expires_at: new Date(started + (tokens.expires_in ?? 300) * 1000).toISOString(),
      refresh_token: tokens.refresh_token,
      token_endpoint: endpoints.token_endpoint,
      client_id: CLI_CLIENT_ID,
    },
    true,
  );
  ctx.print(`Logged in to ${server} as ${me.username}.`);
}

const login: Command = {
  spec: loginSpec,
  async run(ctx) {
    const { args } = ctx;
    const token = args.string('token');
    const passwordFlags = ['username', 'password-stdin', 'source'].filter((f) => args.values[f] !== undefined);
    if (token !== undefined && (args.flag('sso') || passwordFlags.length)) {
      throw new UsageError(`--token cannot be combined with ${args.flag('sso') ? '--sso' : `--${passwordFlags[0]}`}`, usageOf(loginSpec));
    }
    if (args.flag('sso') && passwordFlags.length) throw new UsageError(`--sso cannot be combined with --${passwordFlags[0]}`, usageOf(loginSpec));
    const workload = ['oidc-token-file', 'oidc-token-env'].filter((f) => args.values[f] !== undefined);
    const others = ['token', 'sso', ...passwordFlags].filter((f) => args.values[f] !== undefined);
    if (workload.length > 1 || (workload.length && others.length)) {
      throw new UsageError(`--${workload[0]} cannot be combined with --${workload[1] ?? others[0]}`, usageOf(loginSpec));
    }
    if (!workload.length && args.values.scope !== undefined) throw new UsageError('--scope goes with --oidc-token-file or --oidc-token-env', usageOf(loginSpec));
    const server = whichServer(ctx);
    if (workload.length) await loginWithWorkloadIdentity(ctx, server);
    else if (token !== undefined) await loginWithToken(ctx, server, token);
    else if (args.flag('sso')) await loginWithDeviceFlow(ctx, server);
    else await loginWithPassword(ctx, server);
  },
};

const logout: Command = {
  spec: { path: ['logout'], summary: 'End the login on the gateway and forget the stored credentials.' },
  async run(ctx) {
    const server = ctx.server();
    const credential: Credential | undefined = ctx.store.get(server);
    if (ctx.env.TESSERA_TOKEN) ctx.note('note: TESSERA_TOKEN is set; unset it to stop using that token');
    if (!credential) {
      ctx.note(`Not logged in to ${server}.`);
      return;
    }
    if (credential.kind !== 'pat' && credential.refresh_token) {
      // The refresh token alone ends the login, even once the access token has expired.
      try {
        await ctx.client().call('POST', '/api/v1/logout', { body: { refresh_token: credential.refresh_token } });
      } catch (err) {
        ctx.note(`warning: could not end the login on the gateway (${(err as Error).message}); forgetting it here anyway`);
      }
    }
    ctx.store.remove(server);
    ctx.print(`Logged out of ${server}.`);
    if (credential.kind === 'pat') {
      ctx.note(`The token itself stays valid: revoke it with tessera token revoke ${credential.token_id ?? 'ID'}`);
    }
  },
};

const whoami: Command = {
  spec: { path: ['whoami'], summary: 'Show who the stored credentials (or TESSERA_TOKEN) belong to.' },
  async run(ctx) {
    const client = ctx.client();
    const me = await client.request<Me>('GET', '/api/v1/me');
    if (ctx.json) return ctx.print(json(me));
    // A session from `login --sso` has no token id: name each kind, never print a null.
    const via = { login: 'login session', sso_login: 'SSO login session (device flow)', personal_access_token: `personal access token ${me.token_id ?? ''}`.trim() }[me.authenticated_with] ?? me.authenticated_with;
    ctx.print(
      fields([
        ['Server', client.server],
        ['User', me.username],
        ['Name', me.display_name !== me.username ? me.display_name : undefined],
        ['Email', me.email],
        ['Role', me.role],
        ['Source', me.source],
        ['Groups', me.groups.join(', ')],
        ['Credential', ctx.env.TESSERA_TOKEN ? `${via} (from TESSERA_TOKEN)` : via],
        ['Scopes', me.scopes === null ? 'all (full rights)' : me.scopes.join(' ')],
      ]),
    );
  },
};

export const loginCommands: Command[] = [login, logout, whoami];
