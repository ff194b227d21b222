/**
 * Operator commands that talk to the store directly, run where the gateway's configuration is
 * (TESSERA_CONFIG, REDIS_URL, the KEK): they work when no admin can sign in, or no gateway runs.
 *
 *   tessera admin recover   create or reset an admin account (a lost password, a lost `admin`)
 *   tessera admin export    the store as JSON lines (src/store/snapshot.ts): backup, migration
 *   tessera admin import    such a snapshot into an empty store
 *
 * Like `serve`, the server-side code is imported lazily, so the API client commands start fast.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { finished, pipeline } from 'node:stream/promises';
import type { CommandSpec } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { CliError } from '../errors.js';
import { count, json } from '../output.js';
import { readStdin } from '../prompt.js';
import type { Store } from '../../store/store.js';
import type { TesseraConfig } from '../../config/schema.js';

const CONFIG_OPTION = { config: { type: 'string', value: 'FILE', help: 'gateway configuration file (default: $TESSERA_CONFIG)' } } as const;

/** The gateway's config (file and environment, as `serve` reads them) and its store. */
/** Copies a stream into a new file readable by this user only; `remove` deletes it and its directory. */
async function spool(input: NodeJS.ReadableStream): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-import-'));
  const path = join(dir, 'snapshot.jsonl');
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(input, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, remove };
}

async function openGatewayStore(ctx: CliContext): Promise<{ config: TesseraConfig; store: Store }> {
  const { ConfigError, loadConfig } = await import('../../config/load.js');
  const { openStore, redisConfigured } = await import('../../services.js');
  let config: TesseraConfig;
  try {
    config = loadConfig({ ...ctx.env, TESSERA_CONFIG: ctx.args.string('config') ?? ctx.env.TESSERA_CONFIG });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  if (!redisConfigured(config)) {
    throw new CliError('no Redis configured (REDIS_URL, store.redisUrl, store.clusterNodes or store.sentinel): the embedded store lives inside the gateway process and cannot be reached from here');
  }
  const store = openStore(config);
  try {
    await store.ping();
  } catch (err) {
    await store.close();
    throw new CliError(`cannot reach the store: ${(err as Error).message}`);
  }
  return { config, store };
}

/** Runs `work` on the gateway's store; store and domain errors become one line and exit 1. */
async function withStore<T>(ctx: CliContext, work: (config: TesseraConfig, store: Store) => Promise<T>): Promise<T> {
  const { TesseraError } = await import('../../errors.js');
  const { config, store } = await openGatewayStore(ctx);
  try {
    return await work(config, store);
  } catch (err) {
    if (err instanceof TesseraError) throw new CliError(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

/** A new file only readable by its owner; an existing one is never overwritten. */
async function createFile(file: string): Promise<NodeJS.WritableStream> {
  try {
    const handle = await open(file, 'wx', 0o600);
    return handle.createWriteStream();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${file} exists: not overwritten`);
    throw new CliError(`cannot create ${file}: ${(err as Error).message}`);
  }
}

const recoverSpec: CommandSpec = {
  path: ['admin', 'recover'],
  summary: 'Create an admin account, or reset one: password, role admin, enabled (talks to the store; run where the gateway config is).',
  options: {
    ...CONFIG_OPTION,
    username: { type: 'string', short: 'u', value: 'NAME', help: 'account to create or reset (default: admin)' },
    'password-stdin': { type: 'boolean', help: 'read the new password from stdin (default: generate one and print it)' },
  },
  notes: ['Example:', '  TESSERA_CONFIG=/etc/tessera/tessera.yaml REDIS_URL=redis://redis:6379 tessera admin recover'],
};

const recover: Command = {
  spec: recoverSpec,
  async run(ctx) {
    const username = ctx.args.string('username') ?? 'admin';
    const given = ctx.args.flag('password-stdin') ? await readStdin(ctx.io) : undefined;
    if (given === '') throw new CliError('empty password on stdin', 2);
    const password = given ?? randomBytes(18).toString('base64url');
    const { UserService } = await import('../../identity/users.js');
    const { AuditTrail } = await import('../../audit/trail.js');
    const result = await withStore(ctx, async (config, store) => {
      // Recorded in the store's audit trail like any other account change (as `system`).
      const audit = new AuditTrail({ store, clock: Date.now, retentionMs: config.audit.retention, sinks: [] });
      const users = new UserService(store, config, Date.now, audit);
      const existing = await store.findUserByName(username);
      if (!existing) {
        await users.create({ username, password, role: 'admin', displayName: username === 'admin' ? 'Administrator' : username });
        return { action: 'created' as const };
      }
      if (existing.source !== 'local') throw new CliError(`${username} signs in through ${existing.source}: its password is not Tessera's to set; choose another --username`);
      // A password change also signs out every existing login of the account (sessionsNotBefore).
      await users.update(username, { password, role: 'admin', enabled: true });
      return { action: 'reset' as const, was: { role: existing.role, enabled: existing.enabled } };
    });
    if (ctx.json) {
      ctx.print(json({ username, ...result, ...(given === undefined ? { password } : {}) }));
      return;
    }
    ctx.print(
      result.action === 'created'
        ? `Created admin user "${username}".`
        : `Reset user "${username}": new password, role admin (was ${result.was!.role}), enabled (was ${result.was!.enabled ? 'enabled' : 'disabled'}); its existing sign-ins are signed out.`,
    );
    ctx.print(given === undefined ? `Password (shown once): ${password}` : 'Password: the one read from stdin.');
  },
};

const exportCommand: Command = {
  spec: {
    path: ['admin', 'export'],
    summary: 'Write a snapshot of the store (users, token records with hashes only, keys as stored, settings) as JSON lines.',
    options: { ...CONFIG_OPTION, output: { type: 'string', short: 'o', value: 'FILE', help: 'write to FILE (created mode 0600) instead of stdout' } },
    notes: ['Login sessions and OIDC grants are not included: users sign in again after a restore.', 'Example:', '  tessera admin export -o tessera-$(date +%F).jsonl'],
  },
  async run(ctx) {
    const { exportSnapshot } = await import('../../store/snapshot.js');
    const { KEY_SETTINGS } = await import('../../oauth/keys.js');
    const { BOOTSTRAP_MARKER } = await import('../../identity/admin-bootstrap.js');
    const { isWrapped, wrappedKeyId } = await import('../../oauth/key-encryption.js');
    const file = ctx.args.string('output');
    const summary = await withStore(ctx, async (_config, store) => {
      // Password hashes and (without a KEK) private keys: readable by the owner only.
      const out: NodeJS.WritableStream = file ? await createFile(file) : ctx.io.stdout;
      const counted = { users: 0, tokens: 0, keys: [] as string[] };
      for await (const line of exportSnapshot(store, { settings: [...KEY_SETTINGS, BOOTSTRAP_MARKER], now: Date.now() })) {
        const entry = JSON.parse(line) as { type: string; name?: string; value?: string; users?: number; tokens?: number };
        if (entry.type === 'setting' && (KEY_SETTINGS as readonly string[]).includes(entry.name!)) counted.keys.push(isWrapped(entry.value!) ? `encrypted with ${wrappedKeyId(entry.value!)}` : 'IN CLEAR');
        if (entry.type === 'end') Object.assign(counted, { users: entry.users, tokens: entry.tokens });
        if (!out.write(`${line}\n`)) await new Promise((resolve) => out.once('drain', resolve));
      }
      if (file) {
        out.end();
        await finished(out as NodeJS.WritableStream & { writable: boolean });
      }
      return counted;
    });
    ctx.note(`Exported ${count(summary.users, 'user')} and ${count(summary.tokens, 'token record')}${file ? ` to ${file}` : ''}; keys ${[...new Set(summary.keys)].join(', ') || 'none'}.`);
    if (summary.keys.includes('IN CLEAR')) ctx.note('WARNING: the snapshot holds private signing keys in clear: keep it secret, or set TESSERA_KEY_ENCRYPTION_KEY on the gateways first.');
  },
};

const importCommand: Command = {
  spec: {
    path: ['admin', 'import'],
    summary: 'Load a snapshot made by "tessera admin export" into an empty store (refuses a non-empty one).',
    args: 'FILE',
    arity: [1, 1],
    options: CONFIG_OPTION,
    notes: ['FILE "-" reads stdin. The whole file is checked before anything is written.', 'Run it before any gateway starts on the new store (a starting gateway creates keys and admin).'],
  },
  async run(ctx) {
    const { checkSnapshot, importSnapshot } = await import('../../store/snapshot.js');
    const { KEY_SETTINGS } = await import('../../oauth/keys.js');
    const { KeyEncryption, isWrapped, wrappedKeyId } = await import('../../oauth/key-encryption.js');
    const file = ctx.args.positionals[0]!;
    // The file is read twice (checked whole, then written), a line at a time: stdin is kept in a
    // private temporary file for that, never in memory.
    const spooled = file === '-' ? await spool(ctx.io.stdin) : undefined;
    try {
      const path = spooled?.path ?? file;
      const lines = () => createInterface({ input: createReadStream(path), crlfDelay: Infinity });
      const snapshot = await checkSnapshot(lines()).catch((err: Error) => {
        throw new CliError(`${file}: ${err.message}`);
      });
      const counts = await withStore(ctx, (_config, store) => importSnapshot(store, lines, { now: Date.now() }));
      ctx.print(`Imported ${count(counts.users, 'user')}, ${count(counts.tokens, 'token record')} and ${count(counts.settings, 'setting')}.`);
      // The gateways must hold the KEK the keys were wrapped with, or they refuse to start.
      const kek = KeyEncryption.fromEnv(ctx.env);
      for (const { name, value } of snapshot.settingValues) {
        if (!(KEY_SETTINGS as readonly string[]).includes(name) || !isWrapped(value)) continue;
        const needed = wrappedKeyId(value);
        if (kek?.id !== needed) ctx.note(`Note: ${name} is encrypted with KEK ${needed}: start the gateways with that KEK as TESSERA_KEY_ENCRYPTION_KEY (or _PREVIOUS).`);
      }
    } finally {
      await spooled?.remove();
    }
  },
};

export const adminStoreCommands: Command[] = [recover, exportCommand, importCommand];
