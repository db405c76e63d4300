"""The Lua scripts of the Redis broker: each one atomic step over the keys of one channel, all
of them under its hash tag (one slot of a Redis Cluster), every key passed in ``KEYS``."""

# Drops a channel's oldest events until its log is within max events and max bytes (always
# keeping the newest), with the ids that named them; the bytes it holds then.
# KEYS: meta, log, ids.
TRIM = """
local function trim(max_events, max_bytes, bytes)
  local count = redis.call('XLEN', KEYS[2])
  while count > max_events or (bytes > max_bytes and count > 1) do
    local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
    redis.call('XDEL', KEYS[2], oldest[1])
    bytes = redis.call('HINCRBY', KEYS[1], 'bytes', -#oldest[2][2])
    count = count - 1
  end
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  if first then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.match(first[1], '^%d+'))
  end
  return bytes
end
"""

# Places an event, keeps it in the channel's log within its bounds (count, bytes) and publishes it,
# as one atomic step; a message sent again (its dedup key still held) is answered with the event
# it already is. The ids of events no longer held are forgotten with them. Answers the bytes the
# log holds after it, for the process's budget of all channels' histories.
# KEYS: meta, log, ids, topic (the channel's sharded pub/sub channel, of the same slot)
# ARGV: candidate epoch, the event as JSON without its last "}", max events, max bytes,
#       log lifetime (ms), meta lifetime (ms), (unused), dedup key ("" for none)
APPEND = (
    TRIM
    + """
local dedup = ARGV[8]
if dedup ~= '' then
  local held = redis.call('ZSCORE', KEYS[3], dedup)
  if held then
    local entry = redis.call('XRANGE', KEYS[2], held .. '-1', held .. '-1')[1]
    if entry then return {'held', entry[2][2]} end
  end
end
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
if redis.call('EXISTS', KEYS[2]) == 0 then
  -- the log expired in a quiet spell: all it held is forgotten for its age
  redis.call('HSET', KEYS[1], 'bytes', 0, 'aged_out', offset - 1)
end
local event = ARGV[2] .. ',"epoch":"' .. epoch .. '","offset":' .. offset .. '}'
redis.call('XADD', KEYS[2], offset .. '-1', 'e', event)
local bytes = redis.call('HINCRBY', KEYS[1], 'bytes', #event)
if dedup ~= '' then redis.call('ZADD', KEYS[3], offset, dedup) end
bytes = trim(tonumber(ARGV[3]), tonumber(ARGV[4]), bytes)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SPUBLISH', KEYS[4], event)
return {'new', event, bytes}
"""
)

# The process is over its budget for all channels' histories: this channel, one of the biggest,
# gives up its oldest events until it holds at most ARGV[1] bytes (its newest event stays).
# KEYS: meta, log, ids. Returns the bytes it holds then.
SHRINK = (
    TRIM
    + """
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
return trim(1e18, tonumber(ARGV[1]), tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0'))
"""
)

# After a failover lost events the process had seen (replication is asynchronous), the offsets
# must not be given again under the same epoch: the history starts a new one, going on from the
# offset it has. Only if nobody did it already (the epoch is still the old one).
# KEYS: meta. ARGV: the old epoch, the offset the process saw, the new epoch.
RENEW_EPOCH = """
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
if offset >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[3], 'epoch_start', offset + 1)
return 1
"""

# Presence: a sorted set of connections (their deadlines) and a count of connections per
# member, changed together, so that a member's first connection and its last are each told to
# exactly one caller in the whole cluster (joined and left are announced once).
# KEYS: presence, counts. ARGV: deadline, lifetime (ms), then key and member, pairs.
# Returns the members that got their first connection.
PRESENCE_ADD = """
local first = {}
for i = 3, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    if redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1) == 1 then
      table.insert(first, ARGV[i + 1])
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return first
"""
# KEYS: presence, counts. ARGV: key and member, pairs. Returns the members left with no
# connection.
PRESENCE_REMOVE = """
local last = {}
for i = 1, #ARGV, 2 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    if redis.call('HINCRBY', KEYS[2], ARGV[i + 1], -1) <= 0 then
      redis.call('HDEL', KEYS[2], ARGV[i + 1])
      table.insert(last, ARGV[i + 1])
    end
  end
end
return last
"""
