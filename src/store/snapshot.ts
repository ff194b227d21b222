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
 * Both directions stream: export walks the users and each user's tokens a store page at a time
 * and writes as it goes; import reads the file twice, line by line (once to check it all, once to
 * write), so neither holds more than a page of the store or a line of the file in memory, however
 * large the deployment. A user's tokens follow the user's line (export writes them so); a token
 * line that does not follow its owner is refused.
 *
 * A token revoked on a live deployment while the export runs may be exported as active. For a
 * migration, stop the gateways first (or export again after the last change): see the README,
 * "Backup and restore".
 *
 * Import checks the whole file before writing anything, and only into an empty store, so a
 * restore never merges two deployments' users or overwrites keys. If the file changes between
 * the two readings, the second one stops at the first line that differs in kind.
 */
import { z } from 'zod';
import { Conflict, InvalidRequest } from '../errors.js';
import type { TokenRecord, UserRecord } from './records.js';
import type { Store } from './store.js';
import { eachToken, eachUser } from './walks.js';

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
  for await (const user of eachUser(store)) {
    counts.users++;
    yield JSON.stringify({ type: 'user', record: user });
    for await (const token of eachToken(store, user.id, options.now, { revoked: true, expired: true })) {
      counts.tokens++;
      yield JSON.stringify({ type: 'token', record: token });
    }
  }
  yield JSON.stringify({ type: 'end', ...counts });
}

type Line = z.infer<typeof line>;
type Source = AsyncIterable<string> | Iterable<string>;

/** The checked lines of a snapshot, one at a time; throws `InvalidRequest` naming the first bad line. */
async function* checkedLines(lines: Source): AsyncGenerator<Exclude<Line, { type: 'tessera-snapshot' | 'end' }>> {
  const counts: SnapshotCounts = { settings: 0, users: 0, tokens: 0 };
  let number = 0;
  let started = false;
  let ended = false;
  let owner: string | undefined;
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
      continue;
    }
    if (entry.type === 'end') {
      ended = true;
      if (counts.settings !== entry.settings || counts.users !== entry.users || counts.tokens !== entry.tokens) {
        throw new InvalidRequest(`line ${number}: the end line counts ${JSON.stringify(entry)} but the file holds ${JSON.stringify(counts)}`);
      }
      continue;
    }
    if (entry.type === 'setting') counts.settings++;
    if (entry.type === 'user') {
      counts.users++;
      owner = entry.record.id;
    }
    if (entry.type === 'token') {
      counts.tokens++;
      if (entry.record.userId !== owner) throw new InvalidRequest(`line ${number}: token ${entry.record.id} belongs to no user in the snapshot before it (a token follows its user's line)`);
    }
    yield entry;
  }
  if (!started) throw new InvalidRequest('empty snapshot');
  if (!ended) throw new InvalidRequest('the snapshot is cut short (no end line): refusing a partial restore');
}

export interface CheckedSnapshot extends SnapshotCounts {
  /** The settings it holds (a few keys and markers: small). */
  settingValues: { name: string; value: string }[];
}

/** Reads a whole snapshot once, keeping nothing but the counts and settings; throws `InvalidRequest` naming the first bad line. */
export async function checkSnapshot(lines: Source): Promise<CheckedSnapshot> {
  const checked: CheckedSnapshot = { settings: 0, users: 0, tokens: 0, settingValues: [] };
  for await (const entry of checkedLines(lines)) {
    if (entry.type === 'setting') {
      checked.settings++;
      checked.settingValues.push({ name: entry.name, value: entry.value });
    } else checked[entry.type === 'user' ? 'users' : 'tokens']++;
  }
  return checked;
}

/** What makes a store non-empty for `importSnapshot`: any user, or any of `settings`. */
async function storeContents(store: Store, settings: readonly string[]): Promise<{ users: boolean; settings: string[] }> {
  const present = await Promise.all(settings.map(async (name) => ((await store.getSetting(name)) === null ? null : name)));
  return { users: (await store.listUserPage({ limit: 1 })).users.length > 0, settings: present.filter((n): n is string => n !== null) };
}

/**
 * Loads a snapshot into an empty store. `open` gives the file's lines from the start and is
 * called twice: the whole file is checked first (`checkSnapshot`), then, only if the store holds
 * no user and none of the snapshot's settings (Conflict otherwise, nothing written), written as
 * it is read again. Token records keep their state: revoked ones stay revoked, expired ones expired.
 */
export async function importSnapshot(store: Store, open: () => Source, options: { now: number }): Promise<CheckedSnapshot> {
  const checked = await checkSnapshot(open());
  const contents = await storeContents(store, checked.settingValues.map((s) => s.name));
  if (contents.users || contents.settings.length > 0) {
    const what = [contents.users ? 'users' : '', ...contents.settings].filter(Boolean).join(', ');
    throw new Conflict(`the target store is not empty (${what}): import only into an empty store, before any gateway runs on it`);
  }
  // No limit: the snapshot's tokens were within their owners' limits when they were made.
  const unlimited = { max: Number.MAX_SAFE_INTEGER, onLimit: 'refuse' } as const;
  const written: SnapshotCounts = { settings: 0, users: 0, tokens: 0 };
  for await (const entry of checkedLines(open())) {
    if (entry.type === 'setting') {
      if ((await store.initSetting(entry.name, entry.value)) !== entry.value) throw new Conflict(`setting ${entry.name} was written by someone else during the import`);
      written.settings++;
    } else if (entry.type === 'user') {
      await store.createUser(entry.record);
      written.users++;
    } else {
      await store.insertToken(entry.record, unlimited, options.now);
      written.tokens++;
    }
  }
  if (written.settings !== checked.settings || written.users !== checked.users || written.tokens !== checked.tokens) {
    throw new Conflict('the snapshot changed while it was imported: the store now holds part of it; empty it and import again');
  }
  return checked;
}
