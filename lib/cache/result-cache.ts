/**
 * The result cache (RFC 7662 §4): TTL rules, a memory tier in front of an
 * optional shared store, and stale copies for stale-if-error. It knows
 * introspection answers only by their `active` and `exp` members; what the
 * memory tier holds (`V`) is whatever the caller derives from an answer.
 */
import { hash } from 'node:crypto';
import { types } from 'node:util';
import type { Logger } from '../logger';
import { createMemoryTier, type MemoryEntry } from './memory-store';
import { guardStore } from './store-guard';

/**
 * A shared cache tier, e.g. {@link RedisStore}. Values are JSON strings;
 * `ttlMs` is how long the store may keep one. A store that fails or answers
 * late is treated as a miss, never as an authorization decision.
 *
 * @example
 * ```ts
 * const map = new Map<string, string>();
 * const store: CacheStore = {
 *   async get(key) { return map.get(key); },
 *   async set(key, value) { map.set(key, value); },
 *   async delete(key) { map.delete(key); },
 * };
 * ```
 */
export interface CacheStore {
  /** The value under `key`; `undefined` or `null` when there is none. */
  get(key: string): Promise<string | undefined | null>;
  /** Stores `value` under `key` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<unknown>;
  /** Removes `key`. */
  delete(key: string): Promise<unknown>;
}

/**
 * The cache key of a token: never the raw token, and scoped to one API app,
 * since ZITADEL answers differently per app (audience, project roles).
 * Stores add their own prefix.
 *
 * @example
 * ```ts
 * cacheKey('https://acme.zitadel.cloud/', '2744@acme', token); // 43 base64url characters
 * ```
 */
export function cacheKey(issuer: string, clientId: string, token: string): string {
  // Runs on every request: a regular expression only when there is a slash to strip.
  const base = issuer.endsWith('/') ? issuer.replace(/\/+$/, '') : issuer;
  const scope = `${base}\n${clientId}\n${token}`;
  // One-shot hash (Node >= 20.12): no Hash object per request.
  return hash('sha256', scope, 'base64url');
}

/**
 * Options of {@link createResultCache}; the core fills in its defaults.
 *
 * @example
 * ```ts
 * const options: ResultCacheOptions<AuthInfo> = {
 *   maxEntries: 10_000, maxTtlSeconds: 300, inactiveTtlSeconds: 10, clockToleranceSeconds: 5,
 *   staleIfErrorSeconds: 0, storeTimeoutMs: 50, now: Date.now, logger: silentLogger,
 *   revive: (claims) => toAuthInfo(claims),
 * };
 * ```
 */
export interface ResultCacheOptions<V> {
  /** LRU bound of the memory tier; 0 turns the memory tier off (store only). */
  maxEntries: number;
  /** Upper bound of an active answer's TTL. */
  maxTtlSeconds: number;
  /** TTL of `active: false` answers; 0 = not cached. */
  inactiveTtlSeconds: number;
  /** An active answer stops being cached this long before its `exp`. */
  clockToleranceSeconds: number;
  /** How long an expired active value may still be served on an outage; 0 = off. */
  staleIfErrorSeconds: number;
  /** Shared tier consulted after the memory tier. */
  store?: CacheStore;
  /** A store answer slower than this is a miss; 0 waits as long as the store takes. */
  storeTimeoutMs: number;
  /** Clock in ms since the epoch; the one clock that decides expiry. */
  now: () => number;
  logger: Logger;
  /** Rebuilds the memory value from an active answer read from the store; may throw (→ miss). */
  revive(claims: Record<string, unknown>): V;
}

/**
 * What a cache hit says: an active answer's derived value, or that the token is inactive.
 *
 * @example
 * ```ts
 * const hit = await cache.get(key);
 * if (hit?.active) useAuth(hit.value);
 * ```
 */
export type CacheLookup<V> = { active: true; value: V } | { active: false };

/**
 * The result cache the core puts in front of the introspection call.
 *
 * @example
 * ```ts
 * const hit = await cache.get(key);
 * if (hit) return hit;
 * const claims = await introspect(token);
 * await cache.set(key, { claims, value: claims.active ? toAuthInfo(claims) : undefined });
 * ```
 */
export interface ResultCache<V> {
  /** Memory first, then the store; a store hit is revived into memory. `undefined` = miss. */
  get(key: string): Promise<CacheLookup<V> | undefined>;
  /** The memory tier only, synchronously: the hot path of a cache hit. `undefined` = not in memory. */
  peek(key: string): CacheLookup<V> | undefined;
  /**
   * Caches an introspection answer by the TTL rules, in memory and in the
   * store. Never rejects: a store failure is logged and swallowed.
   */
  set(key: string, answer: { claims: Record<string, unknown>; value?: V }): Promise<void>;
  /** An active value expired at most `staleIfErrorSeconds` ago, not past the token's `exp`. Memory only. */
  getStale(key: string): V | undefined;
  /** Removes the key from both tiers, stale copy included. */
  delete(key: string): Promise<void>;
  /** Empties the memory tier. */
  clear?(): void;
}

/**
 * Creates the result cache.
 *
 * @example
 * ```ts
 * const cache = createResultCache<AuthInfo>({
 *   maxEntries: 10_000, maxTtlSeconds: 300, inactiveTtlSeconds: 10, clockToleranceSeconds: 5,
 *   staleIfErrorSeconds: 30, store: new RedisStore(redis), storeTimeoutMs: 50,
 *   now: Date.now, logger, revive: (claims) => toAuthInfo(claims),
 * });
 * const key = cacheKey(issuer, clientId, token);
 * const hit = await cache.get(key);
 * ```
 */
export function createResultCache<V>(options: ResultCacheOptions<V>): ResultCache<V> {
  const { now, logger } = options;
  const memory = createMemoryTier<V>({
    maxEntries: options.maxEntries,
    staleIfErrorMs: options.staleIfErrorSeconds * 1000,
  });
  const store = options.store
    ? guardStore(options.store, { timeoutMs: options.storeTimeoutMs, logger, now })
    : undefined;
  // Bumped by delete/clear: a store read that was in flight meanwhile must not refill memory.
  let evictions = 0;
  const ttlOf = (claims: Record<string, unknown>, at: number): number | undefined =>
    ttlMs(claims, at, options);

  /** The memory entry of a cacheable answer, or undefined when no value can be had. */
  const toEntry = (
    claims: Record<string, unknown>,
    expiresAt: number,
    value: V | undefined,
  ): MemoryEntry<V> | undefined => {
    if (claims.active !== true) return { active: false, expiresAt };
    // A cacheable active answer has a numeric exp (see ttlMs).
    const tokenExpiresAt = (claims.exp as number) * 1000;
    if (value !== undefined) return { active: true, value, expiresAt, tokenExpiresAt };
    try {
      return { active: true, value: options.revive(claims), expiresAt, tokenExpiresAt };
    } catch (error) {
      logger.debug(`cache entry ignored: revive failed (${errorName(error)})`);
      return undefined;
    }
  };

  const readStore = async (key: string): Promise<CacheLookup<V> | undefined> => {
    if (!store) return undefined;
    const evictionsBefore = evictions;
    const raw = await store.get(key);
    if (raw === undefined) return undefined;
    const at = now();
    const stored = decodeStoredAnswer(raw, at);
    if (typeof stored === 'string') {
      logger.debug(`cache store entry ignored: ${stored}`);
      return undefined;
    }
    // Held to this instance's own rules, so a foreign writer cannot stretch a TTL.
    const limit = ttlOf(stored.claims, at);
    if (stored.claims.active === true && limit === undefined) {
      logger.debug('cache store entry ignored: active answer without a usable exp');
      return undefined;
    }
    const entry = toEntry(stored.claims, Math.min(stored.expiresAt, at + (limit ?? 0)), undefined);
    if (!entry) return undefined;
    // A concurrent set() already holds a newer answer; a concurrent delete() wins.
    if (limit !== undefined && evictions === evictionsBefore && !memory.fresh(key, at)) {
      memory.set(key, entry);
    }
    return lookupOf(entry);
  };

  return {
    peek(key) {
      const entry = memory.fresh(key, now());
      return entry && lookupOf(entry);
    },

    async get(key) {
      const entry = memory.fresh(key, now());
      if (entry) return lookupOf(entry);
      return readStore(key);
    },

    async set(key, { claims, value }) {
      const at = now();
      const ttl = ttlOf(claims, at);
      if (ttl === undefined) {
        // Whatever was kept for this key (a stale copy above all) is older than this answer.
        memory.delete(key);
        return;
      }
      const expiresAt = at + ttl;
      const entry = toEntry(claims, expiresAt, value);
      if (entry) memory.set(key, entry);
      else memory.delete(key);
      await store?.set(key, () => JSON.stringify({ claims, expiresAt }), ttl);
    },

    getStale(key) {
      return memory.stale(key, now());
    },

    async delete(key) {
      evictions++;
      memory.delete(key);
      await store?.delete(key);
    },

    clear() {
      evictions++;
      memory.clear();
    },
  };
}

/** TTL in ms by the RFC 7662 §4 rules, or undefined when the answer is not to be cached. */
function ttlMs(
  claims: Record<string, unknown>,
  now: number,
  rules: Pick<
    ResultCacheOptions<unknown>,
    'maxTtlSeconds' | 'inactiveTtlSeconds' | 'clockToleranceSeconds'
  >,
): number | undefined {
  let ttl: number;
  if (claims.active === true) {
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return undefined;
    const untilExp = claims.exp * 1000 - now - rules.clockToleranceSeconds * 1000;
    ttl = Math.min(rules.maxTtlSeconds * 1000, untilExp);
  } else if (claims.active === false) {
    ttl = rules.inactiveTtlSeconds * 1000;
  } else {
    return undefined;
  }
  return ttl > 0 ? ttl : undefined;
}

function lookupOf<V>(entry: MemoryEntry<V>): CacheLookup<V> {
  return entry.active ? { active: true, value: entry.value } : { active: false };
}

interface StoredAnswer {
  claims: Record<string, unknown>;
  expiresAt: number;
}

/** Parses a store value `{"claims":{…},"expiresAt":ms}`; a string says why it is not usable. */
function decodeStoredAnswer(raw: string, now: number): StoredAnswer | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return 'not JSON';
  }
  if (!isRecord(parsed) || !isRecord(parsed.claims)) return 'unknown shape';
  const { claims, expiresAt } = parsed;
  if (typeof claims.active !== 'boolean') return 'claims.active is not a boolean';
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return 'no expiresAt';
  if (expiresAt <= now) return 'expired';
  return { claims, expiresAt };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorName(error: unknown): string {
  return types.isNativeError(error) ? error.name : typeof error;
}
