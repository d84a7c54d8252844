/**
 * The seam between the core's fleet machinery (lib/cache/, introspector.ts)
 * and its in-package consumers: the event webhook (lib/express/events-webhook.ts)
 * and local JWT verification. Not public API: reached through a symbol on the
 * introspector, so the public surface stays what DESIGN.md lists.
 */

/**
 * Internal: `introspector[FLEET_HOOKS]` gives the consumers below what they
 * need from the fleet without importing its internals.
 */
export const FLEET_HOOKS: unique symbol = Symbol('express-zitadel-introspection.fleet-hooks');

/**
 * A small key → value memory shared by the fleet when the introspector has a
 * coordinating store (names HMAC'd, values encrypted, as every other fleet
 * key), a bounded in-process LRU otherwise. Never rejects: a store that fails
 * or times out reads as "not there" and writes are best effort.
 */
export interface SharedMemory {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string, ttlMs: number): Promise<void>;
  delete(name: string): Promise<void>;
  /**
   * Marks `name` as seen for `ttlMs`: `true` the first time (fleet-wide with
   * a coordinating store), `false` while it is still marked.
   */
  claim(name: string, ttlMs: number): Promise<boolean>;
}

/** What `introspector[FLEET_HOOKS]` holds. */
export interface FleetHooks {
  /** The introspector's `projectId` option, if any. */
  readonly projectId: string | undefined;
  /**
   * Evicts every cached answer whose `jti` starts with `sessionId + "."` or
   * `sessionId + "-"` (ZITADEL's v2 token ids), on every replica.
   */
  evictSession(sessionId: string): Promise<void>;
  /** A {@link SharedMemory} whose names live in their own `namespace`. */
  sharedMemory(namespace: string): SharedMemory;
  /**
   * For a token accepted without a call (local JWT): whether an eviction
   * covers it — `evict()` of a token with this `jti`, or `evictSubject(subject)`
   * / `evictAll()` at or after `issuedAtMs` — fleet-wide. Such a token is
   * introspected instead of trusted, until its `exp`.
   */
  evictedAfter(token: { jti: string; subject: string; issuedAtMs: number }): Promise<boolean>;
}
