/**
 * Token listing by page on Redis (the rule: `Store.listTokenPage` in store.ts). One script call
 * reads at most `want` records and looks at most at `look` members of the sets (RedisStore keeps
 * both small and calls again until the page is full), so no call holds Redis for a time that
 * grows with the records kept for audit, the page size asked for, or how many tokens expired
 * at once.
 *
 * Order: the active set by (createdAt, id), then, when asked for, the retained set by (horizon,
 * id) — the same order the memory store gives. A cursor is `<phase>.<score>.<id>`: the last member
 * looked at, so a page resumes after it even if that token was revoked in between.
 *
 * Records are returned as stored (HGETALL), not decoded here: after a complete sweep every member
 * of 'tokens' is active (see `sweep` in scripts.ts), so the script need not read a record's
 * times to know where it belongs; the retained walk, when asked for only revoked or only expired
 * records, tells them apart by the presence of the revokedAt field. RedisStore decodes them and
 * drops, as a safety net, any record whose state does not match what was asked for.
 */
import { TOKEN_LIB } from './scripts.js';

/**
 * KEYS[1] = tokens, KEYS[2] = retained.
 * ARGV = base, now, auditRetentionMs, want (records, >= 1), phase ('a' | 'r'), score, id
 *        ('' = from the start), include revoked ('1' | '0'), include expired ('1' | '0'),
 *        look (members to look at, >= want).
 * Returns { 'again' } when expired tokens were still waiting in 'tokens' (this call moved STEP
 * of them to 'retained' and read nothing: call again), else { next phase, next score, next id,
 * members looked at, token reply... } ('' cursor parts: no more pages).
 */
export const LIST_TOKEN_PAGE = `${TOKEN_LIB}
local base, now, retention, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local phase, score, cid = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local want_revoked, want_expired = ARGV[8] == '1', ARGV[9] == '1'
local budget = tonumber(ARGV[10])
local out, seen, more, looked = {}, nil, false, 0

-- Expired ids still in 'tokens' would be listed neither as active nor as retained: move them
-- first, STEP per call.
if sweep(base, now, retention) > 0 then return { 'again' } end

-- A record as scripts reply it ({ id, field, value, ... }, or the JSON string an earlier
-- version wrote), or nil when it is gone.
local function record(id)
  local key = base .. 't:' .. id
  local flat = redis.pcall('HGETALL', key)
  if flat.err then return redis.call('GET', key) end
  if #flat == 0 then return nil end
  table.insert(flat, 1, id)
  return flat
end

-- Whether a retained record was revoked (else it expired). The JSON string of an earlier
-- version is decoded.
local function was_revoked(id)
  local key = base .. 't:' .. id
  local has = redis.pcall('HEXISTS', key, 'r')
  if type(has) == 'table' and has.err then return cjson.decode(redis.call('GET', key)).revokedAt ~= nil end
  return has == 1
end

-- Calls visit(id, score) on the members after (score, id), in order, until visit returns
-- false; members scored 'floor' or lower are skipped. Members of equal score sort by id (byte
-- order), as Redis orders them. Walks by rank: the cursor's own member when it is still there
-- (one ZRANK, however many members share its score), else the first member scored above the
-- floor and at or past the cursor's score. Returns true when the set was walked to its end.
local function walk(zkey, from, after, floor, visit)
  local rank
  if after ~= '' and from > floor then
    local s = redis.call('ZSCORE', zkey, after)
    if s and tonumber(s) == from then rank = redis.call('ZRANK', zkey, after) + 1 end
  end
  if not rank and from <= floor then
    -- Everything up to the floor is gone: start past it, nothing to skip.
    from, after = floor, ''
    rank = redis.call('ZCOUNT', zkey, '-inf', floor)
  elseif not rank then
    rank = redis.call('ZCOUNT', zkey, '-inf', '(' .. string.format('%d', from))
  end
  -- Batches no larger than a call can look at (one more, to see whether there is more).
  local size = math.min(100, budget + 1)
  while true do
    local batch = redis.call('ZRANGE', zkey, rank, rank + size - 1, 'WITHSCORES')
    for i = 1, #batch, 2 do
      local s = tonumber(batch[i + 1])
      -- Only a cursor whose member is gone skips here: the ids of its score up to its own.
      if after == '' or s > from or batch[i] > after then
        if not visit(batch[i], s) then return false end
      end
    end
    if #batch < 2 * size then return true end
    rank = rank + size
  end
end

local function full()
  if #out >= want or looked >= budget then more = true return true end
  looked = looked + 1
  return false
end

if phase == 'a' then
  local gone = {}
  local ended = walk(KEYS[1], score, cid, -1, function(id, s)
    if full() then return false end
    seen = { 'a', s, id }
    local r = record(id)
    if r then out[#out + 1] = r else gone[#gone + 1] = id end
    return true
  end)
  -- Changed only after the walk, which goes by rank.
  for _, id in ipairs(gone) do
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', base .. 'expiry', id)
  end
  if ended and (want_revoked or want_expired) then
    phase, score, cid = 'r', 0, ''
  elseif ended then
    return { '', '', '', looked, unpack(out) }
  end
end

if phase == 'r' then
  prune_retained(base, now)
  local gone = {}
  -- Members scored at or below 'now' have passed their horizon: gone, whether pruned yet or not.
  walk(KEYS[2], score, cid, now, function(id, s)
    if full() then return false end
    seen = { 'r', s, id }
    if want_revoked ~= want_expired and was_revoked(id) ~= want_revoked then return true end
    local r = record(id)
    if r then out[#out + 1] = r else gone[#gone + 1] = id end
    return true
  end)
  for _, id in ipairs(gone) do redis.call('ZREM', KEYS[2], id) end
end

if not more or seen == nil then return { '', '', '', looked, unpack(out) } end
return { seen[1], string.format('%d', seen[2]), seen[3], looked, unpack(out) }
`;
