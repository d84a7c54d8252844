/**
 * The in-process tier: an LRU of derived values, bounded by entry count.
 * Expiry is decided here against each entry's own `expiresAt` and the clock
 * the caller passes in, never by lru-cache's timers, so one injectable clock
 * rules TTLs and stale-if-error alike.
 */
import { LRUCache } from 'lru-cache';

/** One memory entry: the derived value of an active answer, or the fact of an inactive one. */
export type MemoryEntry<V> =
  | {
      active: true;
      value: V;
      /** When the entry stops being fresh (ms since the epoch). */
      expiresAt: number;
      /** The token's own `exp` in ms; a stale copy is never served past it. */
      tokenExpiresAt: number;
      /** From then on a hit starts a background refresh (refresh-ahead); absent = never. */
      refreshAt?: number;
      /** The answer's raw subject (a string the value holds anyway): confirms the subject index. */
      subject?: string;
      /** The answer's raw `jti`, likewise: confirms the session index. */
      jti?: string;
    }
  | { active: false; expiresAt: number; jti?: string };

/**
 * The memory tier of the result cache.
 *
 * @example
 * ```ts
 * const tier = createMemoryTier<AuthInfo>({ maxEntries: 10_000, staleIfErrorMs: 30_000 });
 * tier.set(key, { active: true, value: info, expiresAt: now + 60_000, tokenExpiresAt: exp * 1000 });
 * tier.fresh(key, Date.now()); // the entry while it is fresh, else undefined
 * ```
 */
export interface MemoryTier<V> {
  /**
   * The entry while `now < expiresAt`. An expired entry is a miss; it is
   * dropped unless it may still serve as a stale copy.
   */
  fresh(key: string, now: number): MemoryEntry<V> | undefined;
  /**
   * The value of an active entry that is fresh or expired at most
   * `staleIfErrorMs` ago, while the token's own `exp` is not past.
   */
  stale(key: string, now: number): V | undefined;
  /** The entry, fresh or not, without touching its recency or dropping it. */
  peek(key: string): MemoryEntry<V> | undefined;
  set(key: string, entry: MemoryEntry<V>): void;
  /** Whether the tier holds the key at all (fresh or as a stale copy). */
  has(key: string): boolean;
  delete(key: string): void;
  clear(): void;
}

/** Options of {@link createMemoryTier}. */
export interface MemoryTierOptions {
  /** LRU bound; 0 turns the tier off (nothing is kept). */
  maxEntries: number;
  /** How long an expired active entry stays available as a stale copy; 0 = never. */
  staleIfErrorMs: number;
}

/**
 * Creates the memory tier. Stale copies stay in the same LRU until their
 * window closes, so `maxEntries` bounds them too.
 *
 * @example
 * ```ts
 * const tier = createMemoryTier<string>({ maxEntries: 3, staleIfErrorMs: 0 });
 * ```
 */
export function createMemoryTier<V>(options: MemoryTierOptions): MemoryTier<V> {
  // lru-cache reads `max: 0` as "unbounded", so an off tier keeps nothing instead.
  if (!(options.maxEntries >= 1)) return offTier;

  const lru = new LRUCache<string, MemoryEntry<V>>({ max: Math.floor(options.maxEntries) });
  const staleMs = Math.max(0, options.staleIfErrorMs);

  const staleValue = (entry: MemoryEntry<V>, now: number): V | undefined => {
    if (!entry.active || staleMs === 0) return undefined;
    if (now >= entry.expiresAt + staleMs) return undefined;
    if (now >= entry.tokenExpiresAt) return undefined;
    return entry.value;
  };

  return {
    fresh(key, now) {
      const entry = lru.get(key);
      if (!entry) return undefined;
      if (now < entry.expiresAt) return entry;
      if (staleValue(entry, now) === undefined) lru.delete(key);
      return undefined;
    },
    stale(key, now) {
      const entry = lru.get(key);
      if (!entry) return undefined;
      const value = staleValue(entry, now);
      if (value === undefined && now >= entry.expiresAt) lru.delete(key);
      return value;
    },
    peek: (key) => lru.peek(key),
    set(key, entry) {
      lru.set(key, entry);
    },
    has: (key) => lru.has(key),
    delete(key) {
      lru.delete(key);
    },
    clear() {
      lru.clear();
    },
  };
}

const offTier: MemoryTier<never> = {
  fresh: () => undefined,
  stale: () => undefined,
  peek: () => undefined,
  set: () => undefined,
  has: () => false,
  delete: () => undefined,
  clear: () => undefined,
};
