/**
 * The result cache's contract: its options, what a lookup says, and the
 * operations the core, the fleet and refresh-ahead use. The implementation
 * is `createResultCache` in result-cache.ts.
 */
import type { Logger } from '../logger';
import type { CacheStore } from './cache-store';
import type { Envelope } from './envelope';
import type { EvictionLedger, EvictionTarget, WorkStart } from './eviction-ledger';
import type { SharedTier } from './shared-tier';

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
