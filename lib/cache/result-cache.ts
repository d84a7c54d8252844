/**
 * The result cache (RFC 7662 §4): TTL rules, a memory tier in front of an
 * optional shared store, and stale copies for stale-if-error. It knows
 * introspection answers only by their `active` and `exp` members; what the
 * memory tier holds (`V`) is whatever the caller derives from an answer.
 */
import { types } from 'node:util';
import type { Logger } from '../logger';
import type { Envelope } from './envelope';
import {
  createEvictionLedger,
  type EvictionLedger,
  type EvictionTarget,
  type WorkStart,
} from './eviction-ledger';
import { createMemoryTier, type MemoryEntry } from './memory-store';
import { refreshAtOf } from './refresh-ahead';
import { decodeStoredAnswer, subjectOf, ttlMs } from './stored-answer';
import type { CacheStore } from './cache-store';
import { plainTier, type SharedTier } from './shared-tier';
import { createSubjectIndex, sessionOf } from './subject-index';

export type { CacheStore } from './cache-store';
export { cacheKey } from './cache-store';

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
  /** A coordinating shared tier; replaces `store`. */
  shared?: SharedTier;
  /**
   * Seals store values (the introspector always passes one); `undefined`
   * from it (credential not loaded yet) skips the store.
   */
  envelope?: () => Envelope | undefined;
  /** The id under which subjects and sessions are indexed and evicted (the fleet: an HMAC). */
  ownerId?: (kind: 'subject' | 'session', raw: string) => string;
  /** The eviction marks; shared with the fleet (default: a private one). */
  ledger?: EvictionLedger;
  /** A store answer slower than this is a miss; 0 waits as long as the store takes. */
  storeTimeoutMs: number;
  /** Clock in ms since the epoch; the one clock that decides expiry. */
  now: () => number;
  logger: Logger;
  /**
   * Rebuilds the memory value from an active answer read from the store, with
   * the `source` its writer gave it (`'jwt'`, or undefined: an introspection
   * answer); may throw (→ miss).
   */
  revive(claims: Record<string, unknown>, source?: string): V;
  /** A hit this close to its entry's end asks for a background refresh; 0 or absent = never. */
  refreshAheadSeconds?: number;
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
export type CacheLookup<V> =
  | {
      active: true;
      value: V;
      /** Time for a background refresh (set by peek only). */
      refreshDue?: boolean;
    }
  | { active: false };

/**
 * The result cache the core puts in front of the introspection call.
 *
 * @example
 * ```ts
 * const work = cache.begin();
 * const hit = await cache.get(key);
 * if (hit) return hit;
 * const claims = await introspect(token);
 * await cache.set(key, { claims, value: claims.active ? toAuthInfo(claims) : undefined }, work);
 * ```
 */
export interface ResultCache<V> {
  /** Marks the start of a lookup or call (`startedAt` in fleet time; default now). */
  begin(startedAt?: number): WorkStart;
  /** Memory first, then the store; a store hit is revived into memory. `undefined` = miss. */
  get(key: string, work?: WorkStart): Promise<CacheLookup<V> | undefined>;
  /** The store only (a peer's answer); revived into memory like a store hit of get(). */
  getShared(key: string, work?: WorkStart): Promise<CacheLookup<V> | undefined>;
  /** The memory tier only, synchronously: the hot path of a cache hit. `undefined` = not in memory. */
  peek(key: string): CacheLookup<V> | undefined;
  /**
   * Caches an introspection answer by the TTL rules, in memory and in the
   * store, unless an eviction happened since `work` began. `source` (e.g.
   * `'jwt'`) goes into the store entry, for other replicas' `revive`. Never
   * rejects; resolves `true` when the store took it.
   */
  set(
    key: string,
    answer: { claims: Record<string, unknown>; value?: V; source?: string },
    work?: WorkStart,
  ): Promise<boolean>;
  /** An active value expired at most `staleIfErrorSeconds` ago, not past the token's `exp`. Memory only. */
  getStale(key: string): V | undefined;
  /** Removes the key from both tiers, stale copy included. */
  delete(key: string): Promise<void>;
  /**
   * Refresh-ahead's first step: adopts the store's entry when another replica
   * refreshed it already (it ends later, or says inactive), unless an eviction
   * came since `work` began. True if adopted.
   */
  adoptFromStore(key: string, work?: WorkStart): Promise<boolean>;
  /** Drops from memory (stale copies included) and records the eviction at fleet time `at`. */
  drop(target: EvictionTarget, at: number): void;
  /** Empties the memory tier; work in flight does not refill it. */
  clear?(): void;
  /** The eviction marks. */
  readonly ledger: EvictionLedger;
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
  const index = createSubjectIndex(memory.has, options.maxEntries);
  const ledger =
    options.ledger ??
    createEvictionLedger({
      retainMs: options.maxTtlSeconds * 1000 + 60_000,
      markerRetainMs: 24 * 3600 * 1000,
      now,
    });
  const shared = options.shared ?? (options.store && plainTier(options.store, options));
  const ownerId = options.ownerId ?? ((_kind: string, raw: string) => raw);
  const subjectId = (claims: Record<string, unknown>): string =>
    ownerId('subject', subjectOf(claims));
  const sessionId = (claims: Record<string, unknown>): string | undefined => {
    const session = sessionOf(claims.jti);
    return session === undefined ? undefined : ownerId('session', session);
  };
  const ttlOf = (claims: Record<string, unknown>, at: number): number | undefined =>
    ttlMs(claims, at, options);
  /** The envelope, `null` when values go unsealed, `undefined` when not ready (skip the store). */
  const envelope = (): Envelope | null | undefined =>
    options.envelope ? options.envelope() : null;

  /** The memory entry of a cacheable answer, or undefined when no value can be had. */
  const toEntry = (
    claims: Record<string, unknown>,
    expiresAt: number,
    value: V | undefined,
    at: number,
    source?: string,
  ): MemoryEntry<V> | undefined => {
    if (claims.active !== true) return { active: false, expiresAt };
    // A cacheable active answer has a numeric exp (see ttlMs).
    const tokenExpiresAt = (claims.exp as number) * 1000;
    const refreshAt = refreshAtOf(at, expiresAt, tokenExpiresAt, options);
    if (value !== undefined) return { active: true, value, expiresAt, tokenExpiresAt, refreshAt };
    try {
      const revived = options.revive(claims, source);
      return { active: true, value: revived, expiresAt, tokenExpiresAt, refreshAt };
    } catch (error) {
      logger.debug(`cache entry ignored: revive failed (${errorName(error)})`);
      return undefined;
    }
  };

  const remember = (key: string, entry: MemoryEntry<V>, claims: Record<string, unknown>): void => {
    memory.set(key, entry);
    index.add(key, claims.active === true ? subjectId(claims) : undefined, sessionId(claims));
  };

  const readStore = async (
    key: string,
    work = ledger.begin(0),
    adopt = false,
  ): Promise<CacheLookup<V> | undefined> => {
    const seal = envelope();
    if (!shared || seal === undefined) return undefined;
    const raw = await shared.read(key);
    if (raw === undefined) return undefined;
    const text = seal ? seal.open(`cache:${key}`, raw) : raw;
    const at = now();
    const stored = text === undefined ? 'does not decrypt' : decodeStoredAnswer(text, at);
    if (typeof stored === 'string') {
      logger.debug(`cache store entry ignored: ${stored}`);
      return undefined;
    }
    const subject = subjectId(stored.claims);
    if (ledger.covers(key, subject, stored.startedAt, work)) {
      logger.debug('cache store entry ignored: stored before an eviction');
      return undefined;
    }
    // Held to this instance's own rules, so a foreign writer cannot stretch a TTL.
    const limit = ttlOf(stored.claims, at);
    if (stored.claims.active === true && limit === undefined) {
      logger.debug('cache store entry ignored: active answer without a usable exp');
      return undefined;
    }
    const entry = toEntry(
      stored.claims,
      Math.min(stored.expiresAt, at + (limit ?? 0)),
      undefined,
      at,
      stored.source,
    );
    if (!entry) return undefined;
    // A concurrent set() already holds a newer answer (refresh-ahead adopts
    // one that ends later); an eviction meanwhile wins.
    const held = memory.fresh(key, at);
    const newer = !held || (adopt && (!entry.active || entry.expiresAt > held.expiresAt));
    if (limit !== undefined && ledger.allows(work, key, subject) && newer) {
      remember(key, entry, stored.claims);
      if (adopt) return lookupOf(entry);
    }
    return adopt ? undefined : lookupOf(entry);
  };

  const dropKey = (key: string): void => {
    memory.delete(key);
  };

  return {
    ledger,
    begin: (startedAt) => ledger.begin(startedAt ?? now()),

    peek(key) {
      const at = now();
      const entry = memory.fresh(key, at);
      if (!entry) return undefined;
      // Refresh-ahead costs the hit path one comparison.
      return entry.active
        ? { active: true, value: entry.value, refreshDue: at >= (entry.refreshAt ?? Infinity) }
        : { active: false };
    },

    async adoptFromStore(key, work) {
      return (await readStore(key, work ?? ledger.begin(now()), true)) !== undefined;
    },

    async get(key, work) {
      const entry = memory.fresh(key, now());
      if (entry) return lookupOf(entry);
      return readStore(key, work);
    },

    getShared: (key, work) => readStore(key, work),

    async set(key, { claims, value, source }, work) {
      const at = now();
      const started = work ?? ledger.begin(at);
      const subject = subjectId(claims);
      // An eviction since the work began: its answer is not written back anywhere.
      if (!ledger.allows(started, key, subject)) return false;
      const ttl = ttlOf(claims, at);
      if (ttl === undefined) {
        // Whatever was kept for this key (a stale copy above all) is older than this answer.
        memory.delete(key);
        return false;
      }
      const expiresAt = at + ttl;
      const entry = toEntry(claims, expiresAt, value, at);
      if (entry) remember(key, entry, claims);
      else memory.delete(key);
      const seal = envelope();
      if (!shared || seal === undefined) return false;
      // Serialized lazily, inside the tier's guard: a value that cannot be is a failed write.
      const sealed = (): string => {
        const json = JSON.stringify({ claims, expiresAt, startedAt: started.startedAt, source });
        return seal ? seal.seal(`cache:${key}`, json) : json;
      };
      const meta = { startedAt: started.startedAt, subject, session: sessionId(claims) };
      return shared.write(key, sealed, ttl, meta);
    },

    getStale(key) {
      return memory.stale(key, now());
    },

    async delete(key) {
      ledger.evict({ key }, now());
      dropKey(key);
      await shared?.remove(key);
    },

    drop(target, at) {
      if ('session' in target) {
        ledger.evict(target, at);
        for (const key of index.take(target)) {
          ledger.evict({ key }, at);
          dropKey(key);
        }
        return;
      }
      ledger.evict(target, at);
      if ('key' in target) dropKey(target.key);
      else if ('subject' in target) index.take(target).forEach(dropKey);
      else {
        memory.clear();
        index.clear();
      }
    },

    clear() {
      // Marks a generation (no fleet time), so store reads in flight do not refill memory.
      ledger.evict({ all: true }, Number.NEGATIVE_INFINITY);
      memory.clear();
      index.clear();
    },
  };
}

function lookupOf<V>(entry: MemoryEntry<V>): CacheLookup<V> {
  return entry.active ? { active: true, value: entry.value } : { active: false };
}

function errorName(error: unknown): string {
  return types.isNativeError(error) ? error.name : typeof error;
}
