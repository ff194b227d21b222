/**
 * Token listing by page on Redis (the rule: `Store.listTokenPage` in store.ts). One script call
 * per page, reading only the members of the page asked for (plus the records that stopped being
 * active since the last walk, which it moves to 'retained' on the way), so a user's call never
 * holds Redis for a time that grows with the records kept for audit.
 *
 * Order: the active set by (createdAt, id), then, when asked for, the retained set by (horizon,
 * id) — the same order the memory store gives. A cursor is `<phase>.<score>.<id>`: the last member
 * looked at, so a page resumes after it even if that token was revoked in between.
 */
import { TOKEN_LIB } from './scripts.js';

/**
 * KEYS[1] = tokens, KEYS[2] = retained.
 * ARGV = base, now, auditRetentionMs, limit, phase ('a' | 'r'), score, id ('' = from the start),
 *        include revoked ('1' | '0'), include expired ('1' | '0').
 * Returns { next phase, next score, next id, token reply... } ('' cursor parts: no more pages).
 * At most `limit * 4 + 100` members are looked at per call, so a page filtered down to a few
 * records (only revoked ones among many expired) may come back short, with a cursor to go on.
 */
export const LIST_TOKEN_PAGE = `${TOKEN_LIB}
local base, now, retention, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local phase, score, cid = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local want_revoked, want_expired = ARGV[8] == '1', ARGV[9] == '1'
local budget = limit * 4 + 100
local out, seen, more = {}, nil, false

-- Calls visit(id, score) on the members after (score, id) in order, until visit returns false.
-- Members of equal score sort by id (byte order), as Redis orders them. Returns true when the
-- set was walked to its end.
local function walk(zkey, from, after, visit)
  local offset = 0
  while true do
    local batch = redis.call('ZRANGE', zkey, from, '+inf', 'BYSCORE', 'LIMIT', offset, 100, 'WITHSCORES')
    for i = 1, #batch, 2 do
      local s = tonumber(batch[i + 1])
      if after == '' or s > from or batch[i] > after then
        if not visit(batch[i], s) then return false end
      end
    end
    if #batch < 200 then return true end
    offset = offset + 100
  end
end

local function full()
  if #out >= limit or budget <= 0 then more = true return true end
  budget = budget - 1
  return false
end

if phase == 'a' then
  local gone, stopped = {}, {}
  local ended = walk(KEYS[1], score, cid, function(id, s)
    if full() then return false end
    seen = { 'a', s, id }
    local t = load(base, id)
    if not t then gone[#gone + 1] = id return true end
    if active(t, now) then out[#out + 1] = t[REPLY] else stopped[#stopped + 1] = t end
    return true
  end)
  -- Changed only after the walk, which pages by offset.
  for _, id in ipairs(gone) do redis.call('ZREM', KEYS[1], id) end
  for _, t in ipairs(stopped) do retire(base, t, retention) end
  if ended and (want_revoked or want_expired) then
    phase, score, cid = 'r', 0, ''
  elseif ended then
    return { '', '', '' , unpack(out) }
  end
end

if phase == 'r' then
  prune_retained(base, now)
  local gone = {}
  walk(KEYS[2], score, cid, function(id, s)
    if full() then return false end
    seen = { 'r', s, id }
    local t = load(base, id)
    if not t then gone[#gone + 1] = id return true end
    if (t.revokedAt ~= nil and want_revoked) or (t.revokedAt == nil and t.expiresAt <= now and want_expired) then
      out[#out + 1] = t[REPLY]
    end
    return true
  end)
  for _, id in ipairs(gone) do redis.call('ZREM', KEYS[2], id) end
end

if not more or seen == nil then return { '', '', '', unpack(out) } end
return { seen[1], string.format('%d', seen[2]), seen[3], unpack(out) }
`;
