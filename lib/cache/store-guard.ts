/**
 * Makes any shared store safe to consult on the request path: every call is
 * raced against a deadline, a slow or failing store reads as a miss, and
 * nothing it does late can become an unhandled rejection.
 */
import { types } from 'node:util';
import { rateLimitedLog, type Logger } from '../logger';
import type { CacheStore } from './result-cache';
import { deadline, DeadlineError } from './deadline';

/**
 * A {@link CacheStore} whose calls never reject and never take longer than
 * the deadline; `undefined` from `get` means "miss, for whatever reason".
 *
 * @example
 * ```ts
 * const guarded = guardStore(new RedisStore(redis), { timeoutMs: 50, logger, now: Date.now });
 * const raw = await guarded.get(key); // string, or undefined on miss / timeout / error
 * ```
 */
export interface GuardedStore {
  get(key: string): Promise<string | undefined>;
  /** Resolves `true` when the store confirmed the write in time. */
  set(key: string, value: () => string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/** Options of {@link guardStore}. */
export interface StoreGuardOptions {
  /** Deadline per call in ms; 0 (or not finite) waits as long as the store takes. */
  timeoutMs: number;
  logger: Logger;
  /** Clock of the once-a-minute warning. */
  now: () => number;
}

/**
 * Wraps `store` so that a timeout or an error is logged at warn (at most once
 * a minute, the rest at debug) and swallowed.
 *
 * @example
 * ```ts
 * const guarded = guardStore(store, { timeoutMs: 50, logger: silentLogger, now: Date.now });
 * await guarded.set(key, () => JSON.stringify(entry), 60_000); // resolves even if Redis is down
 * ```
 */
export function guardStore(store: CacheStore, options: StoreGuardOptions): GuardedStore {
  const warn = rateLimitedLog(options.logger, 'warn', 60_000, options.now);
  const timeoutMs =
    Number.isFinite(options.timeoutMs) && options.timeoutMs > 0 ? options.timeoutMs : 0;

  // deadline() handles a late settlement too, so nothing the store does late is unhandled.
  const attempt = <T>(operation: string, call: () => Promise<T>): Promise<T | undefined> =>
    deadline(new Promise<T>((resolve) => resolve(call())), timeoutMs).catch((error: unknown) => {
      const reason = error instanceof DeadlineError ? error.message : describe(error);
      warn(`cache store ${operation} failed (${reason}); treated as a miss`);
      return undefined;
    });

  return {
    async get(key) {
      const raw = await attempt('get', () => store.get(key));
      return typeof raw === 'string' ? raw : undefined;
    },
    async set(key, value, ttlMs) {
      const done = await attempt('set', async () => {
        await store.set(key, value(), ttlMs);
        return true;
      });
      return done === true;
    },
    async delete(key) {
      await attempt('delete', () => store.delete(key));
    },
  };
}

/** A short, single-line reason; store errors carry no token (the store never sees one). */
function describe(error: unknown): string {
  // isNativeError also knows errors of another realm (vm, jest), unlike instanceof.
  const text = types.isNativeError(error)
    ? `${error.name}: ${error.message}`
    : `non-error thrown: ${typeof error}`;
  const line = text.replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
