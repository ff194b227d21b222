/**
 * Backup, restore and migration between stores (`tessera admin export` / `import`): Tessera's
 * durable state as JSON lines, store-independent, so a snapshot of a standalone Redis loads into
 * a Redis Cluster, or of the memory store into Redis.
 *
 *   {"type":"tessera-snapshot","version":1,"createdAt":"…"}      first line
 *   {"type":"setting","name":"oidc:signing-keys","value":"…"}    as stored: keys stay encrypted
 *   {"type":"user","record":{…}}                                   one per user
 *   {"type":"token","record":{…}}                                  PAT records: secret hashes only
 *   {"type":"end","settings":2,"users":10,"tokens":31}            last line: a cut file is refused
 *
 * Not included: login sessions, OIDC grants and codes, throttling counters. They are short-lived;
 * users sign in again after a restore.
 *
 * Each user's tokens are read in one call, after the user; a token revoked on a live deployment
 * while the export runs may be exported as active. For a migration, stop the gateways first (or
 * export again after the last change): see the README, "Backup and restore".
 *
 * Import validates the whole file before writing anything, and only into an empty store, so a
 * restore never merges two deployments' users or overwrites keys.
 */
import { z } from 'zod';
import { Conflict, InvalidRequest } from '../errors.js';
import type { TokenRecord, UserRecord } from './records.js';
import type { Store } from './store.js';

const VERSION = 1;
const time = z.number().int().nonnegative();

const userRecord = z.object({
  id: z.string().regex(/^[A-Za-z0-9]+$/),
  username: z.string().min(1),
  displayName: z.string(),
  email: z.string(),
  role: z.enum(['admin', 'normal']),
  enabled: z.boolean(),
  source: z.string().min(1),
  groups: z.array(z.string()),
  passwordHash: z.string().optional(),
  createdAt: time,
  updatedAt: time,
  sessionsNotBefore: time,
}) satisfies z.ZodType<UserRecord>;

const tokenRecord = z.object({
  id: z.string().min(1),
  userId: z.string().min(1),
  name: z.string(),
  description: z.string(),
  scope: z.string(),
  expiration: z.enum(['hard', 'sliding']),
  createdAt: time,
  expiresAt: time,
  slidingWindow: time.optional(),
  maxLifetimeAt: time.optional(),
  createdBy: z.string(),
  parentId: z.string().optional(),
  lastUsedAt: time.optional(),
  lastUsedIp: z.string().optional(),
  revokedAt: time.optional(),
  revokedBy: z.string().optional(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
}) satisfies z.ZodType<TokenRecord>;

const line = z.discriminatedUnion('type', [
  z.object({ type: z.literal('tessera-snapshot'), version: z.literal(VERSION), createdAt: z.string() }),
  z.object({ type: z.literal('setting'), name: z.string().min(1), value: z.string() }),
  z.object({ type: z.literal('user'), record: userRecord }),
  z.object({ type: z.literal('token'), record: tokenRecord }),
  z.object({ type: z.literal('end'), settings: time, users: time, tokens: time }),
]);

export interface SnapshotCounts {
  settings: number;
  users: number;
  tokens: number;
}

/**
 * The snapshot, line by line (no trailing newlines). `settings`: the names of the settings to
 * include (the store cannot list them; the services that own them can).
 */
export async function* exportSnapshot(store: Store, options: { settings: readonly string[]; now: number }): AsyncGenerator<string> {
  const counts: SnapshotCounts = { settings: 0, users: 0, tokens: 0 };
  yield JSON.stringify({ type: 'tessera-snapshot', version: VERSION, createdAt: new Date(options.now).toISOString() });
  for (const name of options.settings) {
    const value = await store.getSetting(name);
    if (value === null) continue;
    counts.settings++;
    yield JSON.stringify({ type: 'setting', name, value });
  }
  for (const user of await store.listUsers()) {
    counts.users++;
    yield JSON.stringify({ type: 'user', record: user });
    for (const token of await store.listTokens(user.id, options.now)) {
      counts.tokens++;
      yield JSON.stringify({ type: 'token', record: token });
    }
  }
  yield JSON.stringify({ type: 'end', ...counts });
}

type Parsed = { settings: { name: string; value: string }[]; users: UserRecord[]; tokens: TokenRecord[] };

/** Reads and checks a whole snapshot; throws `InvalidRequest` naming the first bad line. */
export async function readSnapshot(lines: AsyncIterable<string> | Iterable<string>): Promise<Parsed> {
  const parsed: Parsed = { settings: [], users: [], tokens: [] };
  let number = 0;
  let started = false;
  let ended = false;
  for await (const text of lines) {
    number++;
    if (!text.trim()) continue;
    if (ended) throw new InvalidRequest(`line ${number}: data after the end line`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidRequest(`line ${number}: not JSON`);
    }
    const result = line.safeParse(value);
    if (!result.success) throw new InvalidRequest(`line ${number}: ${result.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ')}`);
    const entry = result.data;
    if (!started && entry.type !== 'tessera-snapshot') throw new InvalidRequest('line 1: not a Tessera snapshot (no header line)');
    if (entry.type === 'tessera-snapshot') {
      if (started) throw new InvalidRequest(`line ${number}: a second header`);
      started = true;
    } else if (entry.type === 'setting') parsed.settings.push(entry);
    else if (entry.type === 'user') parsed.users.push(entry.record);
    else if (entry.type === 'token') parsed.tokens.push(entry.record);
    else {
      ended = true;
      const counts = { settings: parsed.settings.length, users: parsed.users.length, tokens: parsed.tokens.length };
      if (counts.settings !== entry.settings || counts.users !== entry.users || counts.tokens !== entry.tokens) {
        throw new InvalidRequest(`line ${number}: the end line counts ${JSON.stringify(entry)} but the file holds ${JSON.stringify(counts)}`);
      }
    }
  }
  if (!started) throw new InvalidRequest('empty snapshot');
  if (!ended) throw new InvalidRequest('the snapshot is cut short (no end line): refusing a partial restore');
  const userIds = new Set(parsed.users.map((u) => u.id));
  const orphan = parsed.tokens.find((t) => !userIds.has(t.userId));
  if (orphan) throw new InvalidRequest(`token ${orphan.id} belongs to no user in the snapshot`);
  return parsed;
}

/** What makes a store non-empty for `importSnapshot`: any user, or any of `settings`. */
async function storeContents(store: Store, settings: readonly string[]): Promise<{ users: number; settings: string[] }> {
  const present = await Promise.all(settings.map(async (name) => ((await store.getSetting(name)) === null ? null : name)));
  return { users: (await store.listUsers()).length, settings: present.filter((n): n is string => n !== null) };
}

/**
 * Loads a checked snapshot into an empty store: refuses (Conflict, nothing written) when the
 * store holds users or any of the snapshot's settings. Token records keep their state: revoked
 * ones stay revoked, expired ones expired.
 */
export async function importSnapshot(store: Store, snapshot: Parsed, options: { now: number }): Promise<SnapshotCounts> {
  const contents = await storeContents(store, snapshot.settings.map((s) => s.name));
  if (contents.users > 0 || contents.settings.length > 0) {
    const what = [contents.users ? `${contents.users} users` : '', ...contents.settings].filter(Boolean).join(', ');
    throw new Conflict(`the target store is not empty (${what}): import only into an empty store, before any gateway runs on it`);
  }
  for (const { name, value } of snapshot.settings) {
    if ((await store.initSetting(name, value)) !== value) throw new Conflict(`setting ${name} was written by someone else during the import`);
  }
  for (const user of snapshot.users) await store.createUser(user);
  // No limit: the snapshot's tokens were within their owners' limits when they were made.
  const unlimited = { max: Number.MAX_SAFE_INTEGER, onLimit: 'refuse' } as const;
  for (const token of snapshot.tokens) await store.insertToken(token, unlimited, options.now);
  return { settings: snapshot.settings.length, users: snapshot.users.length, tokens: snapshot.tokens.length };
}
