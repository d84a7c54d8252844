/**
 * What the webhook remembers between events, over the fleet's
 * {@link SharedMemory} (fleet-wide, HMAC'd names and encrypted values with a
 * coordinating store; a bounded in-process LRU otherwise): which user a
 * grant or a session belongs to — later events about them carry no user id —
 * and which events were already handled.
 */
import type { SharedMemory } from '../cache/fleet-hooks';

/** Grants are kept until `user.grant.removed`; the TTL only bounds a missed removal. */
export const GRANT_TTL_MS = 400 * 24 * 3600 * 1000;
/** A session → user entry lives a day (ZITADEL's sessions rarely outlive it). */
export const SESSION_TTL_MS = 24 * 3600 * 1000;
/** A delivered event is recognised as a duplicate for ten minutes (longer than a signature lives). */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;
/** `onUnmappedGrantChange: 'evict-all'` evicts everything at most this often, fleet-wide. */
export const UNMAPPED_EVICT_ALL_INTERVAL_MS = 60 * 1000;

/** An id → user id map with a fixed lifetime per entry. */
export interface UserMap {
  remember(id: string, userId: string): Promise<void>;
  lookup(id: string): Promise<string | undefined>;
  forget(id: string): Promise<void>;
}

/** Everything the event table reads and writes besides the evictions. */
export interface EventMemory {
  /** Grant id → user id, for grants of our project (`user.grant.added`). */
  grants: UserMap;
  /** Session id → user id (`oidc_session.added`). */
  sessions: UserMap;
  /** `true` the first time an event key is seen within {@link DUPLICATE_WINDOW_MS}. */
  firstDelivery(key: string): Promise<boolean>;
  /** Lets a later delivery of `key` through again (its handling failed). */
  releaseDelivery(key: string): Promise<void>;
  /** `true` at most once per {@link UNMAPPED_EVICT_ALL_INTERVAL_MS}. */
  mayEvictAllForUnmappedGrant(): Promise<boolean>;
}

/**
 * Builds the memory over `sharedMemory` (the fleet hook), one namespace per use.
 *
 * @example
 * ```ts
 * const memory = eventMemory((ns) => introspector[FLEET_HOOKS].sharedMemory(ns));
 * await memory.grants.remember(grantId, userId);
 * ```
 */
export function eventMemory(sharedMemory: (namespace: string) => SharedMemory): EventMemory {
  const seen = sharedMemory('events:seen');
  const throttle = sharedMemory('events:throttle');
  return {
    grants: userMap(sharedMemory('events:grant'), GRANT_TTL_MS),
    sessions: userMap(sharedMemory('events:session'), SESSION_TTL_MS),
    firstDelivery: (key) => seen.claim(key, DUPLICATE_WINDOW_MS),
    releaseDelivery: (key) => seen.delete(key),
    mayEvictAllForUnmappedGrant: () =>
      throttle.claim('unmapped-grant-evict-all', UNMAPPED_EVICT_ALL_INTERVAL_MS),
  };
}

function userMap(memory: SharedMemory, ttlMs: number): UserMap {
  return {
    remember: (id, userId) => memory.set(id, userId, ttlMs),
    lookup: (id) => memory.get(id),
    forget: (id) => memory.delete(id),
  };
}
