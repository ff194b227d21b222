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
 * - Records are JSON strings. `cjson` keeps 14 significant digits, enough for millisecond
 *   timestamps (13 digits until the year 2286); the store rejects larger times before they reach
 *   a script. Records that a script re-encodes (tokens, sessions) contain no arrays, because
 *   cjson encodes an empty Lua table as `{}`. User records (which have `groups`) are only decoded,
 *   never re-encoded: scripts return the stored string unchanged.
 * - Times come from the caller (ARGV `now`), never from the Redis clock. Key expiries are set with
 *   PXAT/PEXPIREAT from those times so Redis drops what the rules say is gone; the scripts still
 *   compare against `now` themselves, so they never depend on Redis having expired a key yet.
 * - A GET of a missing key gives `false` in Lua. Returning `nil`/`false` gives a null reply.
 * - Numbers passed to `redis.call` are formatted with full precision by Redis (%.17g), unlike
 *   Lua's own tostring, so `now + retention` is safe to pass as an expiry.
 */

/** Helpers prepended to every token script. */
export const TOKEN_LIB = `
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
-- reading every active record. Moves a record that stopped being active to 'retained'.
local function retire(base, t, retention)
  redis.call('ZREM', base .. 'tokens', t.id)
  redis.call('ZREM', base .. 'expiry', t.id)
  redis.call('ZADD', base .. 'retained', horizon(t, retention), t.id)
end

-- Marks a decoded token revoked, drops its secret-hash key (so the secret stops resolving),
-- rewrites the record with its new audit expiry and moves it to 'retained'.
local function revoke(base, t, by, now, retention)
  t.revokedAt = now
  t.revokedBy = by
  redis.call('DEL', base .. 'h:' .. t.hash)
  redis.call('SET', base .. 't:' .. t.id, cjson.encode(t), 'PXAT', horizon(t, retention))
  retire(base, t, retention)
end

-- The active records of the user, oldest first (score = createdAt, then id), as decoded tables.
-- Members whose record is gone are pruned; records that stopped being active (expired, or left
-- there by a version that kept every record in one set) move to 'retained' on the way, so each
-- is read here once after it stops being active: the cost is O(active tokens).
local function live(base, now, retention)
  local out = {}
  local zkey = base .. 'tokens'
  for _, id in ipairs(redis.call('ZRANGE', zkey, 0, -1)) do
    local raw = redis.call('GET', base .. 't:' .. id)
    if raw then
      local t = cjson.decode(raw)
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
  return out
end

-- Makes 'tokens' hold exactly the active ids at 'now' without reading the active records: only
-- the ones 'expiry' says have expired are read (each once, as it moves to 'retained'). A store
-- whose 'expiry' set is incomplete (written by a version without it) gets one full walk.
-- Returns how many tokens are active.
local function sweep(base, now, retention)
  local zkey, ekey = base .. 'tokens', base .. 'expiry'
  if redis.call('ZCARD', ekey) ~= redis.call('ZCARD', zkey) then return #live(base, now, retention) end
  for _, id in ipairs(redis.call('ZRANGE', ekey, '-inf', now, 'BYSCORE')) do
    local raw = redis.call('GET', base .. 't:' .. id)
    if raw then
      local t = cjson.decode(raw)
      if active(t, now) then redis.call('ZADD', ekey, t.expiresAt, id) else retire(base, t, retention) end
    else
      redis.call('ZREM', zkey, id)
      redis.call('ZREM', ekey, id)
    end
  end
  return redis.call('ZCARD', zkey)
end

-- Drops the 'retained' members whose horizon has passed (Redis expires their records at that
-- instant), and the records themselves in case Redis has not yet.
local function prune_retained(base, now)
  local rkey = base .. 'retained'
  local old = redis.call('ZRANGE', rkey, '-inf', now, 'BYSCORE')
  for _, id in ipairs(old) do redis.call('DEL', base .. 't:' .. id) end
  if #old > 0 then redis.call('ZREMRANGEBYSCORE', rkey, '-inf', now) end
end
`;

/**
 * useToken — the bearer hot path, one EVALSHA.
 * KEYS[1] = h:<hash>, KEYS[2] = user.  ARGV = base, now, ip, auditRetentionMs, lastUsedPrecisionMs.
 * hash → token id → token record → owner record; null unless the token is active and the owner
 * exists and is enabled. Then: slide a sliding expiry (never past maxLifetimeAt, never backwards),
 * record last use, rewrite the record (PXAT expiresAt + retention) and move the hash key's expiry
 * to the new expiresAt. Returns { token JSON, user JSON } (the user string as stored).
 */
export const USE_TOKEN = `${TOKEN_LIB}
local base, now, ip, retention = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local precision = tonumber(ARGV[5] or '0')
local id = redis.call('GET', KEYS[1])
if not id then return nil end
local raw = redis.call('GET', base .. 't:' .. id)
if not raw then return nil end
local t = cjson.decode(raw)
if not active(t, now) then return nil end
local user = redis.call('GET', KEYS[2])
if not user then return nil end
local u = cjson.decode(user)
if u.enabled ~= true then return nil end
-- The user-wide revoke and the emergency switch void every credential issued before them.
if type(u.credentialsNotBefore) == 'number' and t.createdAt < u.credentialsNotBefore then return nil end
-- Last use is recorded to 'precision' ms: a check from the IP already recorded, less than that
-- after the recorded use, writes nothing (no AOF, no replication traffic per check) and returns
-- the record as stored. The sliding expiry moves with those writes, so it may lag by up to
-- 'precision' (earlier, never later, than exact). A new IP is always recorded.
if t.lastUsedAt ~= nil and t.lastUsedIp == ip and now - t.lastUsedAt < precision and now >= t.lastUsedAt then
  return { raw, user }
end
local before = t.expiresAt
if t.expiration == 'sliding' and type(t.slidingWindow) == 'number' and type(t.maxLifetimeAt) == 'number' then
  t.expiresAt = math.max(t.expiresAt, math.min(now + t.slidingWindow, t.maxLifetimeAt))
end
t.lastUsedAt = now
t.lastUsedIp = ip
local encoded = cjson.encode(t)
redis.call('SET', base .. 't:' .. id, encoded, 'PXAT', horizon(t, retention))
if t.expiresAt ~= before then
  redis.call('PEXPIREAT', KEYS[1], t.expiresAt)
  redis.call('ZADD', base .. 'expiry', 'XX', t.expiresAt, id)
end
return { encoded, user }
`;

/**
 * insertToken — enforces the per-user limit atomically, so concurrent inserts cannot overshoot.
 * KEYS[1] = tokens (sorted set).  ARGV = base, record JSON, id, hash, createdAt, record expiry
 * (PXAT), hash-key expiry (= expiresAt), max, 'evict'|'refuse', now, auditRetentionMs.
 * Counts the active records (reading only those the expiry index says have expired, never the
 * retained ones); at the limit either returns { 'conflict' } having changed nothing but moving
 * expired ones to 'retained', or revokes the oldest active ones (revokedBy 'system:token-limit')
 * until one slot is free.
 * Then writes the record, its hash key and the sorted-set member. A record that is not active
 * (an import of a revoked one) goes straight to 'retained', without a hash key and no limit check.
 * Returns { 'ok', evicted ids... }.
 */
export const INSERT_TOKEN = `${TOKEN_LIB}
local base, json, id, hash = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local createdAt, recordAt, hashAt = ARGV[5], ARGV[6], ARGV[7]
local max, mode, now, retention = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local record = cjson.decode(json)
local result = { 'ok' }
if active(record, now) then
  local count = sweep(base, now, retention)
  if count >= max then
    if mode == 'refuse' then return { 'conflict' } end
    -- Only the evicted records are read: the oldest active ones, first in 'tokens'.
    for _, old in ipairs(redis.call('ZRANGE', KEYS[1], 0, count - max)) do
      local raw = redis.call('GET', base .. 't:' .. old)
      if raw then
        revoke(base, cjson.decode(raw), 'system:token-limit', now, retention)
        result[#result + 1] = old
      end
    end
  end
  redis.call('SET', base .. 'h:' .. hash, id, 'PXAT', hashAt)
  redis.call('ZADD', KEYS[1], createdAt, id)
  redis.call('ZADD', base .. 'expiry', hashAt, id)
else
  -- A revoked or expired record (an imported snapshot): kept for audit only, never usable.
  redis.call('ZADD', base .. 'retained', recordAt, id)
end
redis.call('SET', base .. 't:' .. id, json, 'PXAT', recordAt)
prune_retained(base, now)
-- deleteUser may have given the sets an expiry; a new token outlives it.
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', base .. 'retained')
redis.call('PERSIST', base .. 'expiry')
return result
`;

/**
 * listTokens — every record still kept at 'now' (raw JSON, sorted by the caller): the active
 * ones, then the retained ones whose horizon has not passed (those past it are deleted, as the
 * memory store forgets them). O(all records): for exports and leak reports; the API lists by
 * page (LIST_TOKEN_PAGE, token-pages.ts).
 * KEYS[1] = tokens.  ARGV = base, now, auditRetentionMs.
 */
export const LIST_TOKENS = `${TOKEN_LIB}
local base, now, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _, t in ipairs(live(base, now, retention)) do out[#out + 1] = cjson.encode(t) end
prune_retained(base, now)
local rkey = base .. 'retained'
for _, id in ipairs(redis.call('ZRANGE', rkey, 0, -1)) do
  local raw = redis.call('GET', base .. 't:' .. id)
  if raw then out[#out + 1] = raw else redis.call('ZREM', rkey, id) end
end
return out
`;

/**
 * updateToken — changes name and/or description, keeping the record's expiry (KEEPTTL).
 * KEYS[1] = t:<id>.  ARGV = '1'|'0' set name, name, '1'|'0' set description, description.
 * Returns the updated JSON, or null when the record does not exist.
 */
export const UPDATE_TOKEN = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local t = cjson.decode(raw)
if ARGV[1] == '1' then t.name = ARGV[2] end
if ARGV[3] == '1' then t.description = ARGV[4] end
local encoded = cjson.encode(t)
redis.call('SET', KEYS[1], encoded, 'KEEPTTL')
return encoded
`;

/**
 * revokeToken — idempotent: an already revoked record is returned unchanged.
 * KEYS[1] = t:<id>.  ARGV = base, by, now, auditRetentionMs.  Returns the record JSON or null.
 */
export const REVOKE_TOKEN = `${TOKEN_LIB}
local base, by, now, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local t = cjson.decode(raw)
if t.revokedAt ~= nil then return raw end
revoke(base, t, by, now, retention)
return cjson.encode(t)
`;

/**
 * revokeTokenByHash — RFC 7009 revocation by secret. The hash key only exists while the token is
 * usable, so a revoked token is not found again.
 * KEYS[1] = h:<hash>.  ARGV = base, by, now, auditRetentionMs.  Returns 1 when a record was found.
 */
export const REVOKE_TOKEN_BY_HASH = `${TOKEN_LIB}
local base, by, now, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local id = redis.call('GET', KEYS[1])
if not id then return 0 end
local raw = redis.call('GET', base .. 't:' .. id)
if not raw then return 0 end
local t = cjson.decode(raw)
if t.revokedAt == nil then revoke(base, t, by, now, retention) end
return 1
`;

/**
 * revokeUserTokens — revokes every active token of the user. KEYS[1] = tokens.
 * ARGV = base, by, now, auditRetentionMs.  Returns how many were revoked.
 */
export const REVOKE_USER_TOKENS = `${TOKEN_LIB}
local base, by, now, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local count = 0
for _, t in ipairs(live(base, now, retention)) do
  revoke(base, t, by, now, retention)
  count = count + 1
end
return count
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
redis.call('DEL', KEYS[2], KEYS[1], base .. 'expiry')
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
 * period): never later than it was, a sliding token's maxLifetimeAt too. The secret-hash key and
 * the record follow the new end, and so does the record's place in 'expiry'. A revoked or
 * expired record is returned unchanged.
 * KEYS[1] = t:<id>.  ARGV = base, until, now, auditRetentionMs.  Returns the record JSON or null.
 */
export const SHORTEN_TOKEN_EXPIRY = `${TOKEN_LIB}
local base, untilAt, now, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local t = cjson.decode(raw)
if not active(t, now) then return raw end
t.expiresAt = math.min(t.expiresAt, untilAt)
if type(t.maxLifetimeAt) == 'number' then t.maxLifetimeAt = math.min(t.maxLifetimeAt, untilAt) end
local encoded = cjson.encode(t)
redis.call('SET', KEYS[1], encoded, 'PXAT', horizon(t, retention))
redis.call('PEXPIREAT', base .. 'h:' .. t.hash, t.expiresAt)
redis.call('ZADD', base .. 'expiry', t.expiresAt, t.id)
return encoded
`;
