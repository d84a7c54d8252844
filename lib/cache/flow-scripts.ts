/**
 * The Lua scripts of the fleet-flow policies (circuit, back-off, probe, rate budget; the lock and evictions are in fleet-scripts.ts). Each touches one key (so it runs on
 * a Redis Cluster too) and reads Redis's own `TIME` where time matters, so
 * the replicas' clocks never have to agree.
 */

/**
 * `SET KEYS[1] ARGV[1] NX PX ARGV[2]`: 1 when this caller took the lock, else 0.
 *
 * @example
 * ```ts
 * const won = (await link.eval(TAKE_LOCK_SCRIPT, [link.key('probe')], [random, '11000'])) === 1;
 * ```
 */
export const TAKE_LOCK_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

/**
 * Compare-and-delete: drops the lock only while it still holds our value.
 *
 * @example
 * ```ts
 * await link.eval(RELEASE_SCRIPT, [link.key('probe')], [random]);
 * ```
 */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Keeps our lock for ARGV[2] ms more (only while it still holds our value).
 *
 * @example
 * ```ts
 * await link.eval(HOLD_LOCK_SCRIPT, [link.key('probe')], [random, '2000']);
 * ```
 */
export const HOLD_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/**
 * The fleet's 429 back-off: while a back-off window is running, the ms left
 * on it (a 429 of the same wave does not double it); else the exponent goes
 * up by one (remembered ARGV[1] ms) and a new window of 2^(n-1) s (≤ 60)
 * starts. Returns the window's ms.
 *
 * @example
 * ```ts
 * const ms = Number(await link.eval(BACKOFF_SCRIPT, [link.key('backoff')], ['120000']));
 * ```
 */
export const BACKOFF_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if ends > now then return ends - now end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local seconds = 60
if n <= 6 then seconds = 2 ^ (n - 1) end
redis.call('HSET', KEYS[1], 'until', now + seconds * 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return seconds * 1000`;

/**
 * A success resets the back-off: the next 429 waits 1 s again.
 *
 * @example
 * ```ts
 * await link.eval(RESET_SCRIPT, [link.key('backoff')], []);
 * ```
 */
export const RESET_SCRIPT = `return redis.call('DEL', KEYS[1])`;

/**
 * The fleet's rate budget: counts logical introspections in the current
 * second of Redis's clock; 1 while the count is within ARGV[1], else 0 (not
 * counted, so refusals do not eat the next caller's share).
 *
 * @example
 * ```ts
 * const allowed = (await link.eval(BUDGET_SCRIPT, [link.key('budget')], ['40'])) === 1;
 * ```
 */
export const BUDGET_SCRIPT = `
local second = redis.call('TIME')[1]
if redis.call('HGET', KEYS[1], 's') ~= second then
  redis.call('HSET', KEYS[1], 's', second, 'c', 0)
  redis.call('PEXPIRE', KEYS[1], 2000)
end
if tonumber(redis.call('HGET', KEYS[1], 'c')) >= tonumber(ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'c', 1)
return 1`;
