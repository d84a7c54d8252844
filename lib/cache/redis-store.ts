/**
 * The shared tier: a {@link CacheStore} over an ioredis or node-redis (v4+)
 * client the application already has. Duck-typed, so neither client is a
 * dependency of the package.
 */
import { ConfigError } from '../errors';
import { rateLimitedLog, silentLogger, type Logger } from '../logger';
import type { CacheStore, StoreCoordinationOptions } from './cache-store';
import { createCoordinator, type Coordinator } from './coordination';
import { redisCommands } from './redis-commands';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Put before every key (default `zitadel:introspection:`). */
  prefix?: string;
  /** Receives the client's connection errors (at warn, at most once a minute). */
  logger?: Logger;
  /**
   * Coordinate the replicas sharing this Redis (default `true`): one
   * introspection per token per fleet, evictions everywhere, one subscriber
   * connection (`client.duplicate()`). `false`: a plain shared tier.
   */
  coordinate?: boolean;
}

/** The part of both clients this store uses. */
interface RedisLike {
  get(key: string): unknown;
  set(key: string, value: string, ...expiry: unknown[]): unknown;
  del(key: string): unknown;
  on?(event: string, listener: (error: unknown) => void): unknown;
  isOpen?: unknown;
}

const DEFAULT_PREFIX = 'zitadel:introspection:';

/**
 * A {@link CacheStore} in Redis, shared by every instance of an API. It
 * attaches an `'error'` listener to the client, so a dead Redis is logged
 * (at warn, at most once a minute) instead of crashing the process; the
 * result cache treats its failures and slow answers as misses.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const store = new RedisStore(new Redis(process.env.REDIS_URL), { logger });
 * app.use(zitadelAuth({ issuer, key, cache: { store } }));
 * ```
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const client = createClient({ url: process.env.REDIS_URL });
 * await client.connect();
 * const store = new RedisStore(client, { prefix: 'orders-api:introspection:' });
 * ```
 */
export class RedisStore implements CacheStore {
  readonly prefix: string;
  readonly #client: RedisLike;
  /** node-redis takes SET options as an object; ioredis as positional arguments. */
  readonly #nodeRedis: boolean;
  readonly #coordinate: boolean;
  /** The introspector's clock once it attaches (coordinate()); the wall clock before. */
  #now: () => number = Date.now;

  constructor(client: unknown, options: RedisStoreOptions = {}) {
    if (!isRedisLike(client)) {
      throw new ConfigError('cache store: RedisStore needs an ioredis or node-redis client', {
        field: 'cache.store',
      });
    }
    this.#client = client;
    this.#nodeRedis = typeof client.isOpen === 'boolean';
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#coordinate = options.coordinate !== false;
    if (typeof client.on === 'function') {
      const warn = rateLimitedLog(options.logger ?? silentLogger, 'warn', 60_000, () =>
        this.#now(),
      );
      client.on('error', (error) => {
        // String() and not instanceof: socket errors may come from another realm (jest, vm).
        warn(`redis client error: ${String(error).replace(/\s+/g, ' ').slice(0, 200)}`);
      });
    }
  }

  /**
   * The stored value, or `null` when there is none.
   *
   * @example
   * ```ts
   * await store.get(cacheKey(issuer, clientId, token));
   * ```
   */
  get(key: string): Promise<string | null> {
    return call(() => this.#client.get(this.prefix + key)).then((value) =>
      typeof value === 'string' ? value : null,
    );
  }

  /**
   * Stores `value` for `ttlMs` (rounded up to a whole millisecond, at least 1).
   *
   * @example
   * ```ts
   * await store.set(key, JSON.stringify({ claims, expiresAt }), 60_000);
   * ```
   */
  set(key: string, value: string, ttlMs: number): Promise<unknown> {
    const px = Math.max(1, Math.ceil(ttlMs));
    if (!Number.isSafeInteger(px)) {
      return Promise.reject(new RangeError('cache store: ttlMs must be a finite number'));
    }
    const name = this.prefix + key;
    return call(() =>
      this.#nodeRedis
        ? this.#client.set(name, value, { PX: px })
        : this.#client.set(name, value, 'PX', px),
    );
  }

  /**
   * The fleet transport over this client (used by the introspector), or
   * `undefined` with `coordinate: false`.
   *
   * @example
   * ```ts
   * const coordinator = store.coordinate({ scope, envelope, logger, now, timeoutMs: 50,
   *   tombstoneMs: 14_000, onReconnect: () => cache.clear() });
   * ```
   *
   * @internal
   */
  coordinate(options: StoreCoordinationOptions): Coordinator | undefined {
    this.#now = options.now;
    if (!this.#coordinate) return undefined;
    return createCoordinator(redisCommands(this.#client), { ...options, prefix: this.prefix });
  }

  /**
   * Removes a key.
   *
   * @example
   * ```ts
   * await store.delete(key);
   * ```
   */
  delete(key: string): Promise<unknown> {
    return call(() => this.#client.del(this.prefix + key));
  }
}

/** A client method's result as a promise, a synchronous throw included. */
function call(command: () => unknown): Promise<unknown> {
  return new Promise((resolve) => resolve(command()));
}

function isRedisLike(client: unknown): client is RedisLike {
  if (typeof client !== 'object' || client === null) return false;
  const candidate = client as Record<string, unknown>;
  return ['get', 'set', 'del'].every((method) => typeof candidate[method] === 'function');
}
