/**
 * Lua scripts of the Redis store. Each one is a whole read-modify-write operation: Redis runs a
 * script atomically, and it costs one round trip. `RedisStore` registers them with ioredis'
 * `defineCommand`, which sends EVAL the first time on a connection and EVALSHA afterwards
 * (re-sending the body by itself on NOSCRIPT, e.g. after a failover or SCRIPT FLUSH).
 *
 * Conventions shared by every script (see the key layout at the top of redis-store.ts):
 * - `base` (an ARGV) is `${prefix}{${userId}}:`. Keys built inside a script are `base .. 'x:' ..`
 *   so they carry the same hash tag, hence the same Cluster slot, as the KEYS it declares (which
 *   ioredis routes on). Redis Cluster allows undeclared keys as long as they are in that slot.
 * - Token records are hashes with one-letter fields (`TOKEN_FIELDS` in token-fields.ts; Redis
 *   keeps such small hashes listpack-encoded), so a check reads and writes only the fields it
 *   needs. The hash is stored in base64url (`H`) and last use relative to createdAt (`U`).
 *   Records written by earlier versions are JSON strings or hashes with a hex `h` and an absolute
 *   `u`: every script reads all three (`load`), and a script that writes a whole record writes it
 *   in the current form (migration on write). Scripts return a token as `{ id, field, value, ... }`
 *   (Node's `decodeToken` reads either hash form) or, still JSON, as that string.
 * - Other records are JSON strings. `cjson` keeps 14 significant digits, enough for millisecond
 *   timestamps (13 digits until the year 2286); the store rejects larger times before they reach
 *   a script. Records that a script re-encodes (sessions) contain no arrays, because cjson
 *   encodes an empty Lua table as `{}`. User records (which have `groups`) are only decoded,
 *   never re-encoded: scripts return the stored string unchanged.
 * - Times come from the caller (ARGV `now`), never from the Redis clock. Key expiries are set with
 *   PXAT/PEXPIREAT from those times so Redis drops what the rules say is gone; the scripts still
 *   compare against `now` themselves, so they never depend on Redis having expired a key yet.
 * - A GET of a missing key gives `false` in Lua. Returning `nil`/`false` gives a null reply.
 * - Numbers passed to `redis.call` are formatted with full precision by Redis (%.17g), unlike
 *   Lua's own tostring, so `now + retention` is safe to pass as an expiry.
 */
import { HASH_FIELD_CHARS, HEX_FIELD_CHARS, LUA_TOKEN_FIELDS } from './token-fields.js';

/**
 * Records one script call moves, drops or revokes at most (sweep of expired tokens, prune of
 * forgotten ones, a step of revoke-all). Each costs ~10 µs (sweep) to ~25 µs (revoke) of Redis
 * time on the shared 2-core machine at load 6 (bench:scale), so a call stays at a few hundred
 * µs, under the 1 ms a user's call may hold Redis (#14); callers that need more call again
 * (RedisStore loops), each call atomic on its own.
 */
export const STEP = 10;

/** Helpers prepended to every token script. */
export const TOKEN_LIB = `${LUA_TOKEN_FIELDS}
local STEP = ${STEP}
-- Keys of 'load' results that no record property can be: set by 'load' only.
local JSON, REPLY, OLD = {}, {}, {}

-- Token 'id' as a table (property names, times as numbers, absolute), or nil when there is no
-- record. t.hash is the stored form (base64url) whatever form the record has. t[REPLY] is the
-- record as scripts reply it: { id, field, value, ... }, or the stored string for a JSON record
-- of an earlier version (t[JSON] = true). t[OLD] = the hex hash of a record in an earlier form
-- (JSON, or a hash with 'h'/'u'): the next whole write migrates it, and it may still be found
-- through that form's lookups (a hex field in 'hashes', an 'h:<hex>' key).
local function load(base, id)
  local key = base .. 't:' .. id
  local flat = redis.pcall('HGETALL', key)
  if flat.err then
    local raw = redis.call('GET', key)
    local t = cjson.decode(raw)
    t[JSON], t[REPLY], t[OLD] = true, raw, t.hash
    if t.hash then t.hash = hex_to_64(t.hash) end
    return t
  end
  if #flat == 0 then return nil end
  local t = { id = id, name = '', description = '', scope = '', expiration = 'hard' }
  local since
  for i = 1, #flat, 2 do
    local f = flat[i]
    local name = LONG[f]
    if f == 'U' then since = tonumber(flat[i + 1])
    elseif f == 'I' then t.lastUsedIp = ipv4_text(flat[i + 1])
    elseif name then
      if NUMERIC[f] then t[name] = tonumber(flat[i + 1]) else t[name] = flat[i + 1] end
    end
  end
  if since then t.lastUsedAt = t.createdAt + since end
  if t.hash and #t.hash ~= 43 then t[OLD] = t.hash t.hash = hex_to_64(t.hash) end
  table.insert(flat, 1, id)
  t[REPLY] = flat
  return t
end

-- The hash fields of a record table in the current form, { field, value, ... } (defaults left
-- out, as encodeToken). A hash that is not a SHA-256 (never written by Tessera) keeps 'h'.
local function fields(t)
  local out = {}
  for name, f in pairs(SHORT) do
    local v = t[name]
    if type(v) == 'number' or (type(v) == 'string' and v ~= DEFAULTS[name]) then
      if name == 'lastUsedAt' then v = v - t.createdAt end
      if name == 'lastUsedIp' then f, v = ip_field(v) end
      if name == 'hash' and #v ~= 43 then f = 'h' end
      out[#out + 1] = f
      out[#out + 1] = v
    end
  end
  return out
end

-- The reply for a record table whose stored form was just written.
local function reply(t)
  return { t.id, unpack(fields(t)) }
end

-- Writes a whole record as a hash expiring at 'at', replacing whatever was stored (the JSON
-- string of an earlier version included).
local function save(base, t, at)
  local key = base .. 't:' .. t.id
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(fields(t)))
  redis.call('PEXPIREAT', key, at)
end

-- The id the secret hash (stored form, and hex) resolves to: the user's 'hashes' lookup (field =
-- the first HASH_FIELD_CHARS of the stored hash, so only a candidate: callers compare the
-- record's full hash), else the lookups of earlier versions: a 'hashes' field of the first
-- HEX_FIELD_CHARS hex characters, or a per-token key 'h:<hex>'. (11 and 16 characters: the
-- fields of the two forms never collide.)
local function find(base, hash, hex)
  local key = base .. 'hashes'
  return redis.call('HGET', key, string.sub(hash, 1, HASH_FIELD_CHARS)) or redis.call('HGET', key, string.sub(hex, 1, HEX_FIELD_CHARS))
    or redis.call('GET', base .. 'h:' .. hex)
end

-- Makes 'hash' resolve to 'id'. The lookup lives as long as its longest-lived token ('at' =
-- that token's expiresAt), so a user who never comes back leaves nothing behind.
local function index_hash(base, hash, id, at)
  local key = base .. 'hashes'
  redis.call('HSET', key, string.sub(hash, 1, HASH_FIELD_CHARS), id)
  redis.call('PEXPIREAT', key, at, 'GT')
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIREAT', key, at) end
end

-- A record of an earlier form (t[OLD] = its hex hash) stops resolving through that form's lookups.
local function forget_old_lookups(base, t)
  local field = string.sub(t[OLD], 1, HEX_FIELD_CHARS)
  if redis.call('HGET', base .. 'hashes', field) == t.id then redis.call('HDEL', base .. 'hashes', field) end
  redis.call('DEL', base .. 'h:' .. t[OLD])
end

-- A record's audit horizon: Redis keeps the record until then (memory store: 'kept').
local function horizon(t, retention)
  return (t.revokedAt or t.expiresAt) + retention
end

-- Active = usable: not revoked and not expired at 'now'.
local function active(t, now)
  return t.revokedAt == nil and t.expiresAt > now
end

-- A user's records live in two sorted sets: 'tokens' (active ones, score createdAt) and
-- 'retained' (revoked or expired ones kept for audit, score = their horizon, when Redis drops the
-- record). So the limit check and the default listing never read what is only kept for audit.
-- A third set, 'expiry', holds the active ids by expiresAt, so expired ones are found without
-- reading every active record. Moves records that stopped being active (a list of at most a
-- few thousand: Lua's unpack limit) to 'retained', and drops their secrets from the lookup, with
-- one command per key for the whole list (~1 µs per command saved per record).
local function retire_all(base, ts, retention)
  if #ts == 0 then return end
  local ids, scored, fields, owned = {}, {}, {}, {}
  for i, t in ipairs(ts) do
    ids[i] = t.id
    scored[2 * i - 1], scored[2 * i] = horizon(t, retention), t.id
    if t.hash then
      fields[#fields + 1] = string.sub(t.hash, 1, HASH_FIELD_CHARS)
      owned[#owned + 1] = t.id
    end
  end
  redis.call('ZREM', base .. 'tokens', unpack(ids))
  redis.call('ZREM', base .. 'expiry', unpack(ids))
  redis.call('ZADD', base .. 'retained', unpack(scored))
  -- Their secrets stop resolving. A lookup field names a candidate only (token-fields.ts):
  -- dropped where it names this token.
  if #fields > 0 then
    local owners = redis.call('HMGET', base .. 'hashes', unpack(fields))
    local drop = {}
    for i = 1, #fields do
      if owners[i] == owned[i] then drop[#drop + 1] = fields[i] end
    end
    if #drop > 0 then redis.call('HDEL', base .. 'hashes', unpack(drop)) end
  end
  -- A record of an earlier form may still resolve through that form's lookups too.
  for _, t in ipairs(ts) do
    if t[OLD] then forget_old_lookups(base, t) end
  end
end

local function retire(base, t, retention)
  retire_all(base, { t }, retention)
end

-- Marks loaded tokens revoked (so their secrets stop resolving), gives each record its new
-- audit expiry and moves them to 'retained'. A hash record gets two fields; a JSON one is
-- rewritten whole, as a hash.
local function revoke_all(base, ts, by, now, retention)
  for _, t in ipairs(ts) do
    t.revokedAt = now
    t.revokedBy = by
    if t[JSON] then
      save(base, t, horizon(t, retention))
    else
      local key = base .. 't:' .. t.id
      redis.call('HSET', key, 'r', now, 'v', by)
      redis.call('PEXPIREAT', key, horizon(t, retention))
    end
  end
  retire_all(base, ts, retention)
end

local function revoke(base, t, by, now, retention)
  revoke_all(base, { t }, by, now, retention)
end

-- The active records of the user, oldest first (score = createdAt, then id), as loaded tables.
-- Members whose record is gone are pruned; records that stopped being active (expired, or left
-- there by a version that kept every record in one set) move to 'retained' on the way, so each
-- is read here once after it stops being active: the cost is O(active tokens).
local function live(base, now, retention)
  local out = {}
  local zkey = base .. 'tokens'
  for _, id in ipairs(redis.call('ZRANGE', zkey, 0, -1)) do
    local t = load(base, id)
    if t then
      if active(t, now) then
        out[#out + 1] = t
        redis.call('ZADD', base .. 'expiry', t.expiresAt, id)
      else
        retire(base, t, retention)
      end
    else
      redis.call('ZREM', zkey, id)
      redis.call('ZREM', base .. 'expiry', id)
    end
  end
  -- Members of 'expiry' with no place in 'tokens' (a race an earlier version lost): dropped, so
  -- the two counts agree again and 'sweep' does not repeat this walk on every call.
  local ekey = base .. 'expiry'
  if redis.call('ZCARD', ekey) ~= redis.call('ZCARD', zkey) then
    for _, id in ipairs(redis.call('ZRANGE', ekey, 0, -1)) do
      if not redis.call('ZSCORE', zkey, id) then redis.call('ZREM', ekey, id) end
    end
  end
  return out
end

-- Moves the active ids whose expiry has passed (by the 'expiry' index) to 'retained': at most
-- STEP of them per call, oldest expiry first, so no call holds Redis for a time that grows with
-- how many expired at once (a CI user's batch of short-lived tokens): the rest go on later calls.
-- Only those are read, never the active records. Returns how many are left to move (0: 'tokens'
-- holds exactly the active ids at 'now').
-- Counting by the index is exact: every script that writes an active record's expiresAt
-- (insert, use, shorten) writes its 'expiry' score in the same call, and every one that retires
-- or revokes a token removes it from both sets, so an id scored <= now is an expired token,
-- moved or not. A store whose 'expiry' set is incomplete (written by a
-- version without it) gets one full walk first (O(active), once per user).
local function sweep(base, now, retention)
  local zkey, ekey = base .. 'tokens', base .. 'expiry'
  if redis.call('ZCARD', ekey) ~= redis.call('ZCARD', zkey) then live(base, now, retention) return 0 end
  local due = redis.call('ZRANGE', ekey, '-inf', now, 'BYSCORE', 'LIMIT', 0, STEP)
  local stopped = {}
  for _, id in ipairs(due) do
    local t = load(base, id)
    if t then
      if active(t, now) then redis.call('ZADD', ekey, t.expiresAt, id) else stopped[#stopped + 1] = t end
    else
      redis.call('ZREM', zkey, id)
      redis.call('ZREM', ekey, id)
    end
  end
  retire_all(base, stopped, retention)
  if #due < STEP then return 0 end
  return redis.call('ZCOUNT', ekey, '-inf', now)
end

-- Drops up to STEP 'retained' members whose horizon has passed (Redis expires their records at
-- that instant), and the records themselves in case Redis has not yet. Bounded like 'sweep';
-- readers skip the members left (score <= now), so what is left is only memory, freed later.
local function prune_retained(base, now)
  local rkey = base .. 'retained'
  local old = redis.call('ZRANGE', rkey, '-inf', now, 'BYSCORE', 'LIMIT', 0, STEP)
  for _, id in ipairs(old) do redis.call('DEL', base .. 't:' .. id) end
  -- They are the lowest-scored members: the first #old by rank.
  if #old > 0 then redis.call('ZREMRANGEBYRANK', rkey, 0, #old - 1) end
end
`;

/**
 * useToken — the bearer hot path, one EVALSHA, kept lean: no TOKEN_LIB, the record read once
 * (HGETALL) into locals, and at most one small HSET.
 * KEYS[1] = hashes, KEYS[2] = user.
 * ARGV = base, now, ip (stored form: ipField in token-fields.ts), lastUsedPrecisionMs, hash
 * (stored form: base64url), hash (hex), auditRetentionMs, ip field ('I' or 'i').
 * hash → token id → token record (its full hash compared) → owner record. Null unless the token
 * is active and the owner exists. Then, when last use is already recorded to the precision, it
 * writes nothing and returns at once: the owner's checks (enabled, credentialsNotBefore) are left
 * to the caller, which makes them on the user record of this reply, the snapshot this script
 * read atomically with the token, so it decides exactly as the script would, and the script
 * saves decoding the user JSON. Otherwise the script makes those checks itself before it writes
 * (a refused check writes nothing): slide a sliding expiry (never past maxLifetimeAt, never
 * backwards), record last use (two or three hash fields), and move the record's, lookup's and
 * expiry index's times when the expiry moved.
 * Returns { id, record fields (HGETALL), user JSON } (the user string as stored), or { 'old' }
 * when the secret resolves only through the lookups of an earlier version (a JSON record, or a
 * hash with a hex hash): the caller then runs USE_OLD_TOKEN, which checks and migrates it. Those
 * lookups are only tried when the current one misses, so a current token never pays for them.
 */
export const USE_TOKEN = `
local base, hash = ARGV[1], ARGV[5]
local id = redis.call('HGET', KEYS[1], string.sub(hash, 1, ${HASH_FIELD_CHARS}))
if not id then
  local hex = ARGV[6]
  if redis.call('HEXISTS', KEYS[1], string.sub(hex, 1, ${HEX_FIELD_CHARS})) == 1 or redis.call('EXISTS', base .. 'h:' .. hex) == 1 then return { 'old' } end
  return nil
end
local key = base .. 't:' .. id
-- Only hash records of the current form are indexed under that field (a JSON one would be an
-- error here: the check fails closed).
local flat = redis.call('HGETALL', key)
-- The fields a check needs (token-fields.ts), and where last use and expiry sit in 'flat'.
local h, e, c, r, u, i, fi, x, w, m, iu, ii, ie
for k = 1, #flat, 2 do
  local f, v = flat[k], flat[k + 1]
  if f == 'H' then h = v
  elseif f == 'e' then e, ie = tonumber(v), k + 1
  elseif f == 'c' then c = tonumber(v)
  elseif f == 'r' then r = v
  elseif f == 'U' then u, iu = tonumber(v), k + 1
  elseif f == 'I' or f == 'i' then i, fi, ii = v, f, k + 1
  elseif f == 'x' then x = v
  elseif f == 'w' then w = tonumber(v)
  elseif f == 'm' then m = tonumber(v)
  end
end
local now = tonumber(ARGV[2])
if h ~= hash or r or not e or e <= now or not c then return nil end
local user = redis.call('GET', KEYS[2])
if not user then return nil end
-- Last use (u: ms after createdAt) is recorded to the precision: a check from the IP already
-- recorded, less than that after the recorded use, writes nothing (no AOF, no replication
-- traffic per check) and returns the record as stored. The sliding expiry moves with those
-- writes, so it may lag by up to the precision (earlier, never later, than exact). A new IP is
-- always recorded.
local ip, ipf = ARGV[3], ARGV[8]
if u ~= nil and i == ip and fi == ipf then
  u = c + u
  if now - u < tonumber(ARGV[4]) and now >= u then return { id, flat, user } end
end
local owner = cjson.decode(user)
if owner.enabled ~= true then return nil end
-- The user-wide revoke and the emergency switch void every credential issued before them.
if type(owner.credentialsNotBefore) == 'number' and c < owner.credentialsNotBefore then return nil end
local before = e
if x == 'sliding' and w and m then e = math.max(e, math.min(now + w, m)) end
local since = now - c
if iu then flat[iu] = since else flat[#flat + 1] = 'U' flat[#flat + 1] = since end
if ii then flat[ii - 1] = ipf flat[ii] = ip else flat[#flat + 1] = ipf flat[#flat + 1] = ip end
-- The other spelling of last-use IP goes (an IPv6 address after an IPv4 one, or back).
if fi and fi ~= ipf then redis.call('HDEL', key, fi) end
if e ~= before then
  flat[ie] = e
  redis.call('HSET', key, 'U', since, ipf, ip, 'e', e)
  -- The record is kept until its audit horizon: expiresAt + retention (it is not revoked).
  redis.call('PEXPIREAT', key, e + tonumber(ARGV[7]))
  redis.call('PEXPIREAT', KEYS[1], e, 'GT')
  redis.call('ZADD', base .. 'expiry', 'XX', e, id)
else
  redis.call('HSET', key, 'U', since, ipf, ip)
end
return { id, flat, user }
`;

/**
 * useToken for a record of an earlier form (a JSON string, or a hash with a hex hash and an
 * absolute last use): the same rule, every check made here, and the record is rewritten in the
 * current form, found through the current lookup (the old lookups go), so each such token takes
 * this path once. Same KEYS and ARGV as USE_TOKEN. Returns { token reply, user JSON } or null.
 */
export const USE_OLD_TOKEN = `${TOKEN_LIB}
local base, now, ip, precision = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local hash, hex, retention = ARGV[5], ARGV[6], tonumber(ARGV[7])
if ARGV[8] == 'I' then ip = ipv4_text(ip) end
local id = find(base, hash, hex)
if not id then return nil end
local t = load(base, id)
if not t or t.hash ~= hash or not active(t, now) then return nil end
local user = redis.call('GET', KEYS[2])
if not user then return nil end
local u = cjson.decode(user)
if u.enabled ~= true then return nil end
if type(u.credentialsNotBefore) == 'number' and t.createdAt < u.credentialsNotBefore then return nil end
if not t[OLD] then return { t[REPLY], user } end
local recorded = t.lastUsedAt ~= nil and t.lastUsedIp == ip and now - t.lastUsedAt < precision and now >= t.lastUsedAt
if not recorded then
  if t.expiration == 'sliding' and type(t.slidingWindow) == 'number' and type(t.maxLifetimeAt) == 'number' then
    t.expiresAt = math.max(t.expiresAt, math.min(now + t.slidingWindow, t.maxLifetimeAt))
  end
  t.lastUsedAt = now
  t.lastUsedIp = ip
end
save(base, t, horizon(t, retention))
forget_old_lookups(base, t)
index_hash(base, hash, id, t.expiresAt)
redis.call('ZADD', base .. 'expiry', 'XX', t.expiresAt, id)
return { reply(t), user }
`;

/**
 * insertToken — enforces the per-user limit atomically, so concurrent inserts cannot overshoot.
 * KEYS[1] = tokens (sorted set).  ARGV = base, id, hash, createdAt, record expiry (PXAT),
 * expiresAt, max, 'evict'|'refuse', now, auditRetentionMs, '1' if the record is active, then the
 * record's hash fields (field, value, ...).
 * Counts the active records by the expiry index (reading at most STEP of those it says have
 * expired, to move them, and never the retained ones); at the limit either returns { 'conflict' }
 * having changed nothing but moving expired ones to 'retained', or revokes the oldest active ones
 * (revokedBy 'system:token-limit') until one slot is free. Evicting while expired ids are still
 * waiting in 'tokens' returns { 'again' } having only moved STEP of them, and evicting more
 * than STEP (a lowered limit) returns { 'again', the STEP evicted ids... }: the caller repeats.
 * Then writes the record, its secret's lookup and the sorted-set members. A record that is not
 * active (an import of a revoked one) goes straight to 'retained', with no lookup and no limit
 * check. Returns { 'ok', evicted ids... }, { 'conflict' } or { 'again', evicted ids... }.
 */
export const INSERT_TOKEN = `${TOKEN_LIB}
local base, id, hash = ARGV[1], ARGV[2], ARGV[3]
local createdAt, recordAt, hashAt = ARGV[4], ARGV[5], ARGV[6]
local max, mode, now, retention = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local result = { 'ok' }
if ARGV[11] == '1' then
  -- Active = in 'tokens' and not yet expired by the index (exact, see 'sweep'), whether or not
  -- this call's bounded sweep got to move every expired one.
  local backlog = sweep(base, now, retention)
  local count = redis.call('ZCARD', KEYS[1]) - backlog
  if count >= max then
    if mode == 'refuse' then return { 'conflict' } end
    -- Evicting takes the oldest active ones, the first in 'tokens' once no expired one is left
    -- there: until then, the caller calls again (each call moves STEP more, changes nothing else).
    if backlog > 0 then return { 'again' } end
    -- Only the evicted records are read: the oldest active ones, first in 'tokens'. More than
    -- STEP to evict (the limit was lowered): STEP now, returned with 'again', the rest on the
    -- next calls; each call evicts only what its own count is over the limit, so concurrent
    -- inserts together evict exactly what one after the other would.
    local over = count - max + 1
    if over > STEP then result[1] = 'again' end
    local evicted = {}
    for _, old in ipairs(redis.call('ZRANGE', KEYS[1], 0, math.min(over, STEP) - 1)) do
      local t = load(base, old)
      if t then
        evicted[#evicted + 1] = t
        result[#result + 1] = old
      else
        -- Its record is gone (never Tessera's doing: an eviction policy or a manual DEL). The
        -- member holds a slot it has nothing behind: dropped, which frees the slot as evicting
        -- would, so every call makes progress and 'again' cannot repeat forever.
        redis.call('ZREM', KEYS[1], old)
        redis.call('ZREM', base .. 'expiry', old)
      end
    end
    revoke_all(base, evicted, 'system:token-limit', now, retention)
    if over > STEP then return result end
  end
  index_hash(base, hash, id, hashAt)
  redis.call('ZADD', KEYS[1], createdAt, id)
  redis.call('ZADD', base .. 'expiry', hashAt, id)
else
  -- A revoked or expired record (an imported snapshot): kept for audit only, never usable.
  redis.call('ZADD', base .. 'retained', recordAt, id)
end
local key = base .. 't:' .. id
redis.call('DEL', key)
redis.call('HSET', key, unpack(ARGV, 12))
redis.call('PEXPIREAT', key, recordAt)
prune_retained(base, now)
-- deleteUser may have given the sets an expiry; a new token outlives it.
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', base .. 'retained')
redis.call('PERSIST', base .. 'expiry')
return result
`;

/**
 * updateToken — changes name and/or description, keeping the record's expiry.
 * KEYS[1] = t:<id>.  ARGV = '1'|'0' set name, name, '1'|'0' set description, description, id.
 * A JSON record of an earlier version stays JSON (SET KEEPTTL). Returns the token reply, or
 * null when the record does not exist.
 */
export const UPDATE_TOKEN = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return nil end
if kind == 'string' then
  local t = cjson.decode(redis.call('GET', KEYS[1]))
  if ARGV[1] == '1' then t.name = ARGV[2] end
  if ARGV[3] == '1' then t.description = ARGV[4] end
  local encoded = cjson.encode(t)
  redis.call('SET', KEYS[1], encoded, 'KEEPTTL')
  return encoded
end
-- HSET and HDEL keep the key's expiry. Empty strings are left out (token-fields.ts).
for _, pair in ipairs({ { ARGV[1], ARGV[2], 'n' }, { ARGV[3], ARGV[4], 'd' } }) do
  if pair[1] == '1' then
    if pair[2] == '' then redis.call('HDEL', KEYS[1], pair[3]) else redis.call('HSET', KEYS[1], pair[3], pair[2]) end
  end
end
local flat = redis.call('HGETALL', KEYS[1])
table.insert(flat, 1, ARGV[5])
return flat
`;

/**
 * revokeToken — idempotent: an already revoked record is returned unchanged.
 * KEYS[1] = t:<id>.  ARGV = base, by, now, auditRetentionMs, id.  Returns the token reply or null.
 */
export const REVOKE_TOKEN = `${TOKEN_LIB}
local base, by, now, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local t = load(base, ARGV[5])
if not t then return nil end
if t.revokedAt ~= nil then return t[REPLY] end
revoke(base, t, by, now, retention)
return reply(t)
`;

/**
 * revokeTokenByHash — RFC 7009 revocation by secret. The lookup only holds usable tokens, so a
 * revoked token is not found again.
 * KEYS[1] = hashes.  ARGV = base, by, now, auditRetentionMs, hash (stored form), hash (hex).
 * Returns 1 when a record was found.
 */
export const REVOKE_TOKEN_BY_HASH = `${TOKEN_LIB}
local base, by, now, retention, hash = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local id = find(base, hash, ARGV[6])
if not id then return 0 end
local t = load(base, id)
if not t or t.hash ~= hash then return 0 end
if t.revokedAt == nil then revoke(base, t, by, now, retention) end
return 1
`;

/**
 * revokeUserTokens, one step: revokes up to STEP of the user's active tokens, the oldest first
 * (after moving expired ones out of 'tokens', which may take the whole step). KEYS[1] = tokens.
 * ARGV = base, by, now, auditRetentionMs.  Returns { revoked, 1 if there may be more else 0 }:
 * RedisStore repeats until 0, so no call is O(active tokens); see revokeUserTokens there for why
 * revoke-all may be split.
 */
export const REVOKE_USER_TOKENS = `${TOKEN_LIB}
local base, by, now, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if sweep(base, now, retention) > 0 then return { 0, 1 } end
local ids = redis.call('ZRANGE', KEYS[1], 0, STEP - 1)
local live_ones, stopped = {}, {}
for _, id in ipairs(ids) do
  local t = load(base, id)
  if t and active(t, now) then
    live_ones[#live_ones + 1] = t
  elseif t then
    stopped[#stopped + 1] = t
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', base .. 'expiry', id)
  end
end
revoke_all(base, live_ones, by, now, retention)
retire_all(base, stopped, retention)
return { #live_ones, #ids == STEP and 1 or 0 }
`;

/**
 * deleteUser, per-user part: revokes the active tokens and deletes the user record. The username
 * index lives in another slot, so the caller removes it afterwards (UNINDEX_USER). Gives the
 * retained set the expiry of its longest-kept record, so nothing of a deleted user stays forever.
 * KEYS[1] = user, KEYS[2] = tokens.  ARGV = base, by, now, auditRetentionMs.
 * Returns the deleted user's username, or null when there was no such user.
 */
export const DELETE_USER = `${TOKEN_LIB}
local base, by, now, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
for _, t in ipairs(live(base, now, retention)) do revoke(base, t, by, now, retention) end
-- Every record is now in 'retained': the set lives as long as its longest-kept record.
local rkey = base .. 'retained'
prune_retained(base, now)
local last = redis.call('ZRANGE', rkey, -1, -1, 'WITHSCORES')
if #last > 0 then redis.call('PEXPIREAT', rkey, last[2]) end
redis.call('DEL', KEYS[2], KEYS[1], base .. 'expiry', base .. 'hashes')
return cjson.decode(raw).username
`;

/**
 * Removes a username from the global index only if it still points at this user id (a new user
 * may already have taken the name). KEYS[1] = users (hash).  ARGV = username, user id.
 */
export const UNINDEX_USER = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
`;

/**
 * Moves a username index field written under the exact spelling to its case-folded key, unless
 * another user already holds that key (then the old field stays). Idempotent, so gateways
 * upgrading at once agree. KEYS[1] = users (hash).  ARGV = exact field, folded key, user id.
 */
export const REKEY_USERNAME = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then return 0 end
local holder = redis.call('HGET', KEYS[1], ARGV[2])
if holder and holder ~= ARGV[3] then return -1 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/**
 * putUser — replaces the record only if it exists with the same username.
 * KEYS[1] = user.  ARGV = new JSON (stored as given), username.  Returns 1 if replaced, else 0.
 */
export const PUT_USER = `
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).username ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

/** Session helpers: a session usable at 'now' (memory store: liveSession). */
const SESSION_LIB = `
-- Returns decoded session, session JSON, user JSON; or nil when the session is missing, revoked
-- or expired, or its owner is missing, disabled, or voided it (sessionsNotBefore).
local function live_session(base, sid, ukey, now)
  local raw = redis.call('GET', base .. 's:' .. sid)
  if not raw then return nil end
  local s = cjson.decode(raw)
  if s.revokedAt ~= nil or s.expiresAt <= now then return nil end
  local user = redis.call('GET', ukey)
  if not user then return nil end
  local u = cjson.decode(user)
  if u.enabled ~= true then return nil end
  if type(u.sessionsNotBefore) == 'number' and s.createdAt < u.sessionsNotBefore then return nil end
  if type(u.credentialsNotBefore) == 'number' and s.createdAt < u.credentialsNotBefore then return nil end
  return s, raw, user
end
`;

/**
 * createSession — session record, its first refresh hash and first access token, together.
 * KEYS[1] = s:<sid>, KEYS[2] = r:<refreshHash>, KEYS[3] = a:<accessHash>.
 * ARGV = session JSON, sid, session expiresAt, access JSON ({sid, exp}), access expiresAt.
 * The session and every refresh hash live until the session's end (reuse detection needs the
 * old ones); the access key until the access token expires.
 */
export const CREATE_SESSION = `
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[3])
redis.call('SET', KEYS[3], ARGV[4], 'PXAT', ARGV[5])
-- ARGV[6] = the user's session index (sorted set, score = session end): lets revokeUserSessions
-- find every login of a user without scanning. Ended sessions are pruned as new ones arrive.
if ARGV[6] then
  redis.call('ZREMRANGEBYSCORE', ARGV[6], '-inf', ARGV[7])
  redis.call('ZADD', ARGV[6], ARGV[3], ARGV[2])
  redis.call('PEXPIREAT', ARGV[6], ARGV[3], 'GT')
  if redis.call('PTTL', ARGV[6]) < 0 then redis.call('PEXPIREAT', ARGV[6], ARGV[3]) end
end
return 1
`;

/**
 * useAccessToken — bearer check for a login access token, one EVALSHA, read-only.
 * KEYS[1] = a:<accessHash>, KEYS[2] = user.  ARGV = base, now.
 * Returns { session JSON, user JSON, access token expiry } or null.
 */
export const USE_ACCESS_TOKEN = `${SESSION_LIB}
local base, now = ARGV[1], tonumber(ARGV[2])
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local a = cjson.decode(raw)
if a.exp <= now then return nil end
local s, session, user = live_session(base, a.sid, KEYS[2], now)
if not s then return nil end
-- As a string: a Lua number in a reply would be truncated to an integer anyway, but keep it exact.
return { session, user, string.format('%d', a.exp) }
`;

/**
 * rotateRefreshToken — KEYS[1] = r:<presented hash>, KEYS[2] = user.
 * ARGV = base, presented hash, now, next refresh hash, next access hash, next access expiresAt.
 * Unknown hash or dead session: { 'invalid' }. A hash that is not the session's current one was
 * already rotated: the session is revoked, { 'reused' }. Otherwise the session's refresh hash
 * moves on, the new refresh and access keys are written, { 'ok', session JSON }.
 */
export const ROTATE_REFRESH_TOKEN = `${SESSION_LIB}
local base, presented, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local sid = redis.call('GET', KEYS[1])
if not sid then return { 'invalid' } end
local s = live_session(base, sid, KEYS[2], now)
if not s then return { 'invalid' } end
local skey = base .. 's:' .. sid
if s.refreshHash ~= presented then
  s.revokedAt = now
  redis.call('SET', skey, cjson.encode(s), 'KEEPTTL')
  return { 'reused' }
end
s.refreshHash = ARGV[4]
s.lastRefreshAt = now
local encoded = cjson.encode(s)
redis.call('SET', skey, encoded, 'KEEPTTL')
redis.call('SET', base .. 'r:' .. ARGV[4], sid, 'PXAT', s.expiresAt)
redis.call('SET', base .. 'a:' .. ARGV[5], cjson.encode({ sid = sid, exp = tonumber(ARGV[6]) }), 'PXAT', ARGV[6])
return { 'ok', encoded }
`;

/**
 * revokeSession — idempotent; the record stays (with revokedAt) until the session's end.
 * KEYS[1] = s:<sid>.  ARGV = now.
 */
export const REVOKE_SESSION = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
if s.revokedAt ~= nil then return 0 end
s.revokedAt = tonumber(ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1
`;

/**
 * hitCounter — fixed window starting at the first hit. The counter is a hash { n = count,
 * r = resetAt } expiring at resetAt; a window that ended by 'now' restarts even if Redis has not
 * expired the key yet. KEYS[1] = c:<key>.  ARGV = windowMs, now.  Returns { count, ttlMs }.
 */
export const HIT_COUNTER = `
local window, now, by = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3] or '1')
local v = redis.call('HMGET', KEYS[1], 'n', 'r')
local n, r = tonumber(v[1]), tonumber(v[2])
if n == nil or r == nil or r <= now then
  -- Taking back from a counter that is gone changes nothing.
  if by < 0 then return { 0, 0 } end
  n = 0
  r = now + window
end
n = n + by
if n < 0 then n = 0 end
redis.call('HSET', KEYS[1], 'n', n, 'r', r)
redis.call('PEXPIREAT', KEYS[1], r)
return { n, r - now }
`;

/**
 * revokeUserSessions — revokes every login session (API and browser) of the user that is still
 * running at 'now', and forgets the ended ones. KEYS[1] = sessions (sorted set, score = end).
 * ARGV = base, now.  Returns how many were revoked.
 */
export const REVOKE_USER_SESSIONS = `
local base, now = ARGV[1], tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local skey = base .. 's:' .. sid
  local raw = redis.call('GET', skey)
  if raw then
    local s = cjson.decode(raw)
    if s.revokedAt == nil and s.expiresAt > now then
      s.revokedAt = now
      redis.call('SET', skey, cjson.encode(s), 'KEEPTTL')
      count = count + 1
    end
  end
end
return count
`;

/**
 * shortenTokenExpiry — brings an active token's end forward to `until` (a rotation's grace
 * period): never later than it was, a sliding token's maxLifetimeAt too. The record's audit
 * horizon and its place in 'expiry' follow the new end (the checks read the record's own end, so
 * the secret lookup may outlive it). A revoked or expired record is returned unchanged.
 * KEYS[1] = t:<id>.  ARGV = base, until, now, auditRetentionMs, id.  Returns the token reply or null.
 */
export const SHORTEN_TOKEN_EXPIRY = `${TOKEN_LIB}
local base, untilAt, now, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = load(base, ARGV[5])
if not t then return nil end
if not active(t, now) then return t[REPLY] end
t.expiresAt = math.min(t.expiresAt, untilAt)
if type(t.maxLifetimeAt) == 'number' then t.maxLifetimeAt = math.min(t.maxLifetimeAt, untilAt) end
-- A whole write: a record of an earlier form is rewritten in the current one, found through
-- the current lookup only.
save(base, t, horizon(t, retention))
if t[OLD] then forget_old_lookups(base, t) end
-- Indexed again only while still in 'tokens': a sweep with a later 'now' (another gateway, a
-- concurrent call) may have retired it between this call's clock read and now, and an id in
-- 'expiry' but not in 'tokens' would cost every later call a full walk (sweep).
if redis.call('ZSCORE', base .. 'tokens', t.id) then
  if t.hash then index_hash(base, t.hash, t.id, t.expiresAt) end
  redis.call('ZADD', base .. 'expiry', t.expiresAt, t.id)
end
return reply(t)
`;
