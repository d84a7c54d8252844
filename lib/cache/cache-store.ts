/**
 * The shared-store contract and the cache key every tier uses.
 */
import { hash } from 'node:crypto';
import type { Coordinator, CoordinatorOptions } from './coordination';

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
  /**
   * Optional: the fleet transport of a coordinating store ({@link RedisStore}),
   * or `undefined` when it does not coordinate.
   *
   * @internal
   */
  coordinate?(options: StoreCoordinationOptions): Coordinator | undefined;
}

/** What the fleet hands a coordinating store (its own prefix it knows). */
export type StoreCoordinationOptions = Omit<CoordinatorOptions, 'prefix'>;

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
