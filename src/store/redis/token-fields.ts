/**
 * The compact token record on Redis: a hash with one-letter fields, one per `TokenRecord`
 * property. Redis keeps a hash this small listpack-encoded (a few bytes per field), so a record
 * costs about half its JSON string, and a check reads and writes single fields instead of
 * decoding and re-encoding the whole record. `id` and `userId` are not stored: the key
 * (`P{U}:t:<id>`) names both. Empty required strings and the default expiration ('hard') are
 * left out and restored on read.
 *
 * Two properties are stored in a shorter form than they have in `TokenRecord`:
 * - `hash` as `H`: the SHA-256 in base64url, 43 characters instead of 64 hex (the record's
 *   largest field; 22 bytes less in the listpack). `TokenRecord.hash` stays hex everywhere else.
 * - `lastUsedAt` as `U`: milliseconds after `createdAt` (always stored), a small integer that
 *   Redis keeps in 2–5 bytes instead of the 9 of an absolute time while the token is younger than
 *   24 days. Only the check and the decoders read it; `e` and `r`, which scripts sort and filter
 *   on, stay absolute.
 * - `lastUsedIp`, when it is an IPv4 address in dotted-quad form, as `I`: the address as a 32-bit
 *   integer (5 bytes in the listpack instead of up to 15 characters); any other address as `i`.
 * Records written before (`h` = hex hash, `u` = absolute last use; or the JSON strings of the
 * version before that) are still read: `fromFields` accepts both forms, and the Lua side (`load`
 * in scripts.ts) converts them when it reads one, rewriting it in this form on its next whole
 * write (the first check migrates it).
 *
 * The same table drives the Lua side (`LUA_TOKEN_FIELDS`, prepended to every token script), so
 * Node and the scripts cannot disagree on a field name; a property added to `TokenRecord`
 * without a field here does not compile.
 */
import { SHA256_HEX, type TokenRecord } from '../records.js';

type Stored = Exclude<keyof TokenRecord, 'id' | 'userId'>;

export const TOKEN_FIELDS = {
  name: 'n', description: 'd', scope: 's', expiration: 'x', createdAt: 'c', expiresAt: 'e', slidingWindow: 'w', maxLifetimeAt: 'm',
  createdBy: 'b', parentId: 'p', lastUsedAt: 'U', lastUsedIp: 'i', revokedAt: 'r', revokedBy: 'v', hash: 'H', rotatedFrom: 'o',
} as const satisfies Record<Stored, string>;

/** Fields of the previous compact form, read and never written: hex hash, absolute last use. */
export const LEGACY_FIELDS = { hash: 'h', lastUsedAt: 'u' } as const;
/** `lastUsedIp` of a dotted-quad IPv4 address, as an integer (see `ipField`). */
export const IPV4_FIELD = 'I';

const NUMERIC: ReadonlySet<Stored> = new Set<Stored>(['createdAt', 'expiresAt', 'slidingWindow', 'maxLifetimeAt', 'lastUsedAt', 'revokedAt']);
/** Left out when equal to these, restored on read. */
const DEFAULTS: Partial<Record<Stored, string>> = { name: '', description: '', scope: '', expiration: 'hard' };
const PROPERTY = new Map<string, Stored>([
  ...Object.entries(TOKEN_FIELDS).map(([property, field]) => [field, property as Stored] as const),
  ...Object.entries(LEGACY_FIELDS).map(([property, field]) => [field, property as Stored] as const),
]);

/** A SHA-256 as the store is given it: 64 lowercase hex characters (records.ts). */
export const HEX_HASH = SHA256_HEX;

/** The stored form of a hex SHA-256 (`HEX_HASH`): base64url, no padding, 43 characters. */
export const hash64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

/**
 * How many characters of the stored (base64url) hash name a secret in the user's `hashes`
 * lookup: 11, 66 bits. The lookup only finds the candidate: every caller compares the record's
 * full hash, so a shorter name never lets a different secret through. Two tokens of one user
 * sharing it (odds about n²/2^67 for n tokens: 7e-13 at 10,000) would leave the older one
 * unfound: it fails closed, never open.
 */
export const HASH_FIELD_CHARS = 11;
/** The same for a record of the previous compact form, indexed by its hex hash (64 bits). */
export const HEX_FIELD_CHARS = 16;

/** A dotted-quad IPv4 address exactly as `ipv4` prints it back (no leading zeros). */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const ipv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * The field and value of a last-use IP: `I` and the address as an integer for an IPv4 address in
 * the one dotted-quad spelling that reads back the same, else `i` and the text as given.
 */
export function ipField(ip: string): readonly [string, string] {
  // Every check converts its caller's address; most come from a few proxies, so answers are kept
  // (at most IP_CACHE_SIZE, then the cache starts over).
  let field = ipFields.get(ip);
  if (field) return field;
  if (DOTTED_QUAD.test(ip)) {
    const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
    field = [IPV4_FIELD, String(((a << 24) >>> 0) + (b << 16) + (c << 8) + d)] as const;
  } else {
    field = [TOKEN_FIELDS.lastUsedIp, ip] as const;
  }
  if (ipFields.size >= IP_CACHE_SIZE) ipFields.clear();
  ipFields.set(ip, field);
  return field;
}
const IP_CACHE_SIZE = 4096;
const ipFields = new Map<string, readonly [string, string]>();

/** The `hashes` field a secret's token is indexed under (current form). */
export const lookupField = (hex: string): string => hash64(hex).slice(0, HASH_FIELD_CHARS);

/** The hash fields of a record: `[field, value, ...]` for HSET. The hash must be `HEX_HASH`. */
export function encodeToken(token: TokenRecord): string[] {
  if (!HEX_HASH.test(token.hash)) throw new RangeError('token.hash must be a SHA-256 in lowercase hex');
  const out: string[] = [];
  for (const [property, field] of Object.entries(TOKEN_FIELDS) as [Stored, string][]) {
    const value = token[property];
    if (value === undefined || value === DEFAULTS[property]) continue;
    if (property === 'hash') out.push(field, hash64(token.hash));
    else if (property === 'lastUsedAt') out.push(field, String(token.lastUsedAt! - token.createdAt));
    else if (property === 'lastUsedIp') out.push(...ipField(token.lastUsedIp!));
    else out.push(field, String(value));
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
  return fromFlat(userId, String(reply[0]), reply, 1);
}

/**
 * A record from `[field, value, ...]` starting at `from` (a script's reply as it came, without
 * copying it into an object first: the check decodes one per request).
 */
export function fromFlat(userId: string, id: string, flat: readonly (string | number)[], from = 0): TokenRecord {
  const fields: Record<string, string | number> = {};
  for (let i = from; i + 1 < flat.length; i += 2) fields[String(flat[i])] = flat[i + 1]!;
  return fromFields(userId, id, fields);
}

/** A record from its hash fields (HGETALL), of either compact form. */
export function fromFields(userId: string, id: string, fields: Record<string, string | number>): TokenRecord {
  const record: Record<string, unknown> = { id, userId, ...DEFAULTS };
  for (const [field, value] of Object.entries(fields)) {
    const property = PROPERTY.get(field);
    if (property) record[property] = NUMERIC.has(property) ? Number(value) : String(value);
  }
  if (fields[TOKEN_FIELDS.hash] !== undefined) record.hash = Buffer.from(String(fields[TOKEN_FIELDS.hash]), 'base64url').toString('hex');
  if (fields[IPV4_FIELD] !== undefined) record.lastUsedIp = ipv4(Number(fields[IPV4_FIELD]));
  if (fields[TOKEN_FIELDS.lastUsedAt] !== undefined) record.lastUsedAt = Number(fields[TOKEN_FIELDS.createdAt]) + Number(fields[TOKEN_FIELDS.lastUsedAt]);
  return record as unknown as TokenRecord;
}

const lua = (entries: [string, string][]): string => `{ ${entries.map(([k, v]) => `${k} = ${v}`).join(', ')} }`;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same table for Lua: SHORT (property → field), LONG (field → property, legacy fields
 * included), NUMERIC, DEFAULTS, and `hex_to_64`, the stored form of a hex hash (as `hash64`).
 */
export const LUA_TOKEN_FIELDS = `
local SHORT = ${lua(Object.entries(TOKEN_FIELDS).map(([p, f]) => [p, `'${f}'`]))}
local LONG = ${lua([...PROPERTY].map(([f, p]) => [f, `'${p}'`]))}
local NUMERIC = ${lua([...PROPERTY].filter(([, p]) => NUMERIC.has(p)).map(([f]) => [f, 'true']))}
local DEFAULTS = ${lua(Object.entries(DEFAULTS).map(([p, v]) => [p, `'${v}'`]))}
local HASH_FIELD_CHARS, HEX_FIELD_CHARS = ${HASH_FIELD_CHARS}, ${HEX_FIELD_CHARS}

-- 64 hex characters as base64url without padding (43 characters), as hash64 in Node; anything
-- else unchanged (it then matches no stored hash of the current form).
local B64URL = '${B64URL}'
local function hex_to_64(hex)
  if #hex ~= 64 or string.find(hex, '[^0-9a-f]') then return hex end
  local out = {}
  -- 6 hex digits = 24 bits = 4 characters; the last 4 digits (16 bits) give 3.
  for k = 1, 61, 6 do
    local n = tonumber(string.sub(hex, k, k + 5), 16)
    local digits = 4
    if k == 61 then n, digits = tonumber(string.sub(hex, 61, 64), 16) * 4, 3 end
    for d = digits - 1, 0, -1 do
      local v = math.floor(n / 64 ^ d) % 64
      out[#out + 1] = string.sub(B64URL, v + 1, v + 1)
    end
  end
  return table.concat(out)
end

-- Last-use IPs (ipField in Node): an IPv4 address stored as an integer ('I') and back.
local function ipv4_text(n)
  n = tonumber(n)
  return string.format('%d.%d.%d.%d', math.floor(n / 16777216), math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end
local function ip_field(ip)
  local a, b, c, d = string.match(ip, '^(%d+)%.(%d+)%.(%d+)%.(%d+)$')
  if not a then return 'i', ip end
  local n = 0
  for _, part in ipairs({ a, b, c, d }) do
    local v = tonumber(part)
    if v > 255 or tostring(v) ~= part then return 'i', ip end
    n = n * 256 + v
  end
  return 'I', n
end
`;
