/**
 * The compact token record on Redis: a hash with one-letter fields, one per `TokenRecord`
 * property. Redis keeps a hash this small listpack-encoded (a few bytes per field), so a record
 * costs about half its JSON string, and a check reads and writes single fields instead of
 * decoding and re-encoding the whole record. `id` and `userId` are not stored: the key
 * (`P{U}:t:<id>`) names both. Empty required strings and the default expiration ('hard') are
 * left out and restored on read.
 *
 * The same table drives the Lua side (`LUA_TOKEN_FIELDS`, prepended to every token script), so
 * Node and the scripts cannot disagree on a field name; a property added to `TokenRecord`
 * without a field here does not compile.
 */
import type { TokenRecord } from '../records.js';

type Stored = Exclude<keyof TokenRecord, 'id' | 'userId'>;

export const TOKEN_FIELDS = {
  name: 'n', description: 'd', scope: 's', expiration: 'x', createdAt: 'c', expiresAt: 'e', slidingWindow: 'w', maxLifetimeAt: 'm',
  createdBy: 'b', parentId: 'p', lastUsedAt: 'u', lastUsedIp: 'i', revokedAt: 'r', revokedBy: 'v', hash: 'h', rotatedFrom: 'o',
} as const satisfies Record<Stored, string>;

const NUMERIC: ReadonlySet<Stored> = new Set<Stored>(['createdAt', 'expiresAt', 'slidingWindow', 'maxLifetimeAt', 'lastUsedAt', 'revokedAt']);
/** Left out when equal to these, restored on read. */
const DEFAULTS: Partial<Record<Stored, string>> = { name: '', description: '', scope: '', expiration: 'hard' };
const PROPERTY = new Map<string, Stored>(Object.entries(TOKEN_FIELDS).map(([property, field]) => [field, property as Stored]));

/**
 * How many hex characters of a secret's SHA-256 name it in the user's `hashes` lookup (64 bits).
 * The lookup only finds the candidate: every caller compares the record's full hash, so a
 * shorter name never lets a different secret through. Two tokens of one user sharing it (odds
 * about n²/2^65 for n tokens: 3e-12 at 10,000) would leave the older one unfound: it fails
 * closed, never open.
 */
export const HASH_FIELD_CHARS = 16;

/** The hash fields of a record: `[field, value, ...]` for HSET. */
export function encodeToken(token: TokenRecord): string[] {
  const out: string[] = [];
  for (const [property, field] of Object.entries(TOKEN_FIELDS) as [Stored, string][]) {
    const value = token[property];
    if (value === undefined || value === DEFAULTS[property]) continue;
    out.push(field, String(value));
  }
  return out;
}

/**
 * A token as a script replies it: `[id, field, value, ...]` (numbers may come back as Redis
 * integers), or the JSON string of a record written by an earlier version.
 */
export type TokenReply = string | (string | number)[];

export function decodeToken(userId: string, reply: TokenReply): TokenRecord {
  if (typeof reply === 'string') return JSON.parse(reply) as TokenRecord;
  const [id, ...flat] = reply;
  const fields: Record<string, string | number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = flat[i + 1]!;
  return fromFields(userId, String(id), fields);
}

/** A record from its hash fields (HGETALL). */
export function fromFields(userId: string, id: string, fields: Record<string, string | number>): TokenRecord {
  const record: Record<string, unknown> = { id, userId, ...DEFAULTS };
  for (const [field, value] of Object.entries(fields)) {
    const property = PROPERTY.get(field);
    if (property) record[property] = NUMERIC.has(property) ? Number(value) : String(value);
  }
  return record as unknown as TokenRecord;
}

const lua = (entries: [string, string][]): string => `{ ${entries.map(([k, v]) => `${k} = ${v}`).join(', ')} }`;

/** The same table for Lua: SHORT (property → field), LONG (field → property), NUMERIC, DEFAULTS. */
export const LUA_TOKEN_FIELDS = `
local SHORT = ${lua(Object.entries(TOKEN_FIELDS).map(([p, f]) => [p, `'${f}'`]))}
local LONG = ${lua(Object.entries(TOKEN_FIELDS).map(([p, f]) => [f, `'${p}'`]))}
local NUMERIC = ${lua([...NUMERIC].map((p) => [TOKEN_FIELDS[p], 'true']))}
local DEFAULTS = ${lua(Object.entries(DEFAULTS).map(([p, v]) => [p, `'${v}'`]))}
local HASH_FIELD_CHARS = ${HASH_FIELD_CHARS}
`;
