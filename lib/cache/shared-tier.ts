/**
 * The shared tier behind the memory tier, as the result cache sees it:
 * either a plain {@link CacheStore} (guarded by the store deadline) or a
 * coordinating store's own tier (refusing writes, subject indexes).
 */
import type { Logger } from '../logger';
import type { CacheStore } from './cache-store';
import { guardStore } from './store-guard';

/**
 * A shared tier as the result cache uses it: never rejects, `undefined` is a
 * miss. A plain {@link CacheStore} is wrapped into one; a coordinating store
 * brings its own (refusing writes, indexes).
 *
 * @example
 * ```ts
 * const tier: SharedTier = {
 *   read: async (key) => map.get(key),
 *   write: async (key, value) => (map.set(key, value()), true),
 *   remove: async (key) => void map.delete(key),
 * };
 * ```
 */
export interface SharedTier {
  read(key: string): Promise<string | undefined>;
  /** Resolves `true` when the value was stored. */
  write(key: string, value: () => string, ttlMs: number, meta: WriteMeta): Promise<boolean>;
  remove(key: string): Promise<void>;
}

/** What a coordinating tier needs besides the value: the work's start and whose answer it is. */
export interface WriteMeta {
  startedAt: number;
  subject: string;
  session: string | undefined;
}

/**
 * A plain {@link CacheStore} as a shared tier: guarded by the deadline; the
 * write metadata is unused (such a store cannot refuse a write).
 *
 * @example
 * ```ts
 * const tier = plainTier(store, { storeTimeoutMs: 50, logger, now: Date.now });
 * ```
 */
export function plainTier(
  plain: CacheStore,
  options: { storeTimeoutMs: number; logger: Logger; now: () => number },
): SharedTier {
  const store = guardStore(plain, {
    timeoutMs: options.storeTimeoutMs,
    logger: options.logger,
    now: options.now,
  });
  return {
    read: (key) => store.get(key),
    write: (key, value, ttl) => store.set(key, value, ttl),
    remove: (key) => store.delete(key),
  };
}
