/**
 * The Lua scripts of the fleet. Every key one script touches shares the
 * fleet's hash tag (`{<scope>}`), so each runs on one Redis Cluster slot.
 * Times are Redis's own (`TIME`), so replicas' clocks do not matter.
 */
import { luaScript } from './redis-commands';

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Takes the lock when free (KEYS[1] lock; ARGV token, px) and says when:
 * `{1|0, nowMs}`. The time is the start of the work a later write is judged by.
 *
 * @example
 * ```ts
 * const [won, startedAt] = await commands.run(LOCK, [lockKey], [token, '2000']);
 * ```
 */
export const LOCK = luaScript(`${NOW_MS}
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if ok then return {1, now} end
return {0, now}`);

/**
 * Compare-and-delete (KEYS[1] lock; ARGV token): only the holder frees it.
 *
 * @example
 * ```ts
 * await commands.run(UNLOCK, [lockKey], [token]);
 * ```
 */
export const UNLOCK = luaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/**
 * Compare-and-extend (KEYS[1] lock; ARGV token, px): the holder renews.
 *
 * @example
 * ```ts
 * await commands.run(RENEW, [lockKey], [token, '2000']);
 * ```
 */
export const RENEW = luaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`);

/**
 * The refusing write. KEYS: value, key tombstone, subject tombstone, fleet
 * epoch, subject index, session index (or the subject index again). ARGV:
 * sealed value, px, start of the work (ms, Redis time; 0 = unknown), member
 * name of the value in the indexes. Refuses (0) while a tombstone or the
 * epoch is at or after the start; else stores and indexes by expiry (1).
 *
 * @example
 * ```ts
 * await commands.run(WRITE, keys, [sealed, String(px), String(startedAt), key]);
 * ```
 */
export const WRITE = luaScript(`local start = tonumber(ARGV[3])
for i = 2, 4 do
  local t = redis.call('GET', KEYS[i])
  if t and tonumber(t) >= start then return 0 end
end
${NOW_MS}
local px = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', px)
for i = 5, 6 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  redis.call('ZADD', KEYS[i], now + px, ARGV[4])
  if redis.call('PTTL', KEYS[i]) < px then redis.call('PEXPIRE', KEYS[i], px) end
end
return 1`);

/**
 * An eviction's tombstone (KEYS[1]; ARGV px) and the values it removes
 * (KEYS[2..]); returns the eviction time.
 *
 * @example
 * ```ts
 * const at = await commands.run(TOMBSTONE, [tombKey, valueKey], ['12000']);
 * ```
 */
export const TOMBSTONE = luaScript(`${NOW_MS}
redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return now`);

/**
 * The live members of an index (KEYS[1]), after dropping the expired ones.
 *
 * @example
 * ```ts
 * const keys = await commands.run(INDEX_MEMBERS, [subjectIndexKey], []);
 * ```
 */
export const INDEX_MEMBERS = luaScript(`${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`);

/**
 * The values of the marker keys (tombstones, epoch) as one reply.
 *
 * @example
 * ```ts
 * const [jti, subject, epoch] = await commands.run(MARKERS, [a, b, c], []);
 * ```
 */
export const MARKERS = luaScript(`local found = {}
for i = 1, #KEYS do found[i] = redis.call('GET', KEYS[i]) or false end
return found`);

/**
 * Plain GET as a script (KEYS[1]), so a Cluster client routes it like the rest.
 *
 * @example
 * ```ts
 * const raw = await commands.run(READ, [valueKey], []);
 * ```
 */
export const READ = luaScript(`return {redis.call('GET', KEYS[1]) or false,
  redis.call('PTTL', KEYS[2])}`);

/**
 * Shared memory (KEYS[1]): `ARGV[1]` = 'get' | 'set' | 'del' | 'claim',
 * ARGV[2] value, ARGV[3] px.
 *
 * @example
 * ```ts
 * await commands.run(MEMORY, [key], ['claim', '1', '600000']); // 1 the first time
 * ```
 */
export const MEMORY = luaScript(`local op = ARGV[1]
if op == 'get' then return redis.call('GET', KEYS[1]) end
if op == 'del' then return redis.call('DEL', KEYS[1]) end
if op == 'set' then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) and 1 or 0 end
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0`);
