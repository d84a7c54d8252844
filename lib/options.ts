/**
 * Option validation and defaults for the core. Bad options are a programming
 * error that should stop start-up, so they throw {@link ConfigError}
 * synchronously, naming the option.
 */
import { ConfigError } from './errors';
import type { KeySource } from './zitadel/key-file';
import type { CacheStore } from './cache/result-cache';
import { silentLogger, type Logger } from './logger';
import { resolveJwtOptions, type JwtOptions, type ResolvedJwtOptions } from './jwt/jwt-options';

/**
 * Cache settings (DESIGN.md "Cache"); `cache: false` turns caching off.
 *
 * @example
 * ```ts
 * zitadelAuth({ issuer, key, cache: { maxTtlSeconds: 60, store: new RedisStore(redis) } });
 * ```
 */
export interface CacheOptions {
  /** Entries in the memory tier (LRU); 0 turns the memory tier off. Default 10 000. */
  maxEntries?: number;
  /** Upper bound of an active answer's lifetime in the cache. Default 300. */
  maxTtlSeconds?: number;
  /** Lifetime of an `active:false` answer; 0 = not cached. Default 10. */
  inactiveTtlSeconds?: number;
  /** Serve an active answer this long past its cache expiry while ZITADEL is unavailable. Default 0. */
  staleIfErrorSeconds?: number;
  /** A shared tier behind the memory tier, e.g. `new RedisStore(client)`. */
  store?: CacheStore;
  /** A store answer slower than this is a miss. Default 50. */
  storeTimeoutMs?: number;
  /**
   * A hit in the last this many seconds of its entry's life (at most half its
   * TTL) is answered at once and refreshed in the background. 0 = off. Default 30.
   */
  refreshAheadSeconds?: number;
  /**
   * Key material (≥ 16 characters) for the encryption of shared-store values
   * and fleet messages, instead of the API app's credential (e.g. to share
   * one cache across a key rotation).
   */
  storeSecret?: string;
}

/**
 * Options of {@link createIntrospector} (and of `zitadelAuth`, which adds the
 * Express ones).
 *
 * @example
 * ```ts
 * const options: IntrospectorOptions = { issuer: 'https://acme.zitadel.cloud', key: './api-key.json' };
 * ```
 */
export interface IntrospectorOptions {
  /** The ZITADEL issuer URL, e.g. `https://acme.zitadel.cloud`. Required. */
  issuer: string;
  /** The API application's key file: a path, its JSON text or the parsed object (private_key_jwt). */
  key?: KeySource;
  /** With `clientSecret`: client_secret_basic instead of a key file. */
  clientId?: string;
  clientSecret?: string;
  /** Skip discovery and call this endpoint (e.g. an internal URL in Kubernetes). */
  introspectionEndpoint?: string;
  /** Read the roles of this project (`urn:zitadel:iam:org:project:{id}:roles`). */
  projectId?: string;
  /** The token's `aud` must contain one of these. */
  audience?: string | string[];
  /** Cache settings, or `false` for no cache (single-flight stays). */
  cache?: CacheOptions | false;
  /** JWT access tokens: `{ verify: 'introspect' }` (default) or `{ verify: 'local', … }`. */
  jwt?: JwtOptions;
  /** Per attempt. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts after a network error, a timeout or a 5xx. Default 1. */
  retries?: number;
  /** Leeway for `exp`. Default 5. */
  clockToleranceSeconds?: number;
  /** Introspections in flight at once; beyond → 503. Default 100. */
  maxInFlight?: number;
  /**
   * Logical introspections (retries included once; refreshes count) that may
   * start per second, fleet-wide with a coordinating store; beyond → 503
   * `Retry-After: 1` (or a stale copy). Default: no budget.
   */
  maxIntrospectionsPerSecond?: number;
  /**
   * A fetch implementation (custom CA, proxy through an undici dispatcher).
   * Default: the introspector's own keep-alive pool, which `close()` closes.
   */
  fetch?: typeof fetch;
  /** Receives one line per failure; never a token. */
  logger?: Logger;
  /** The clock (ms since the epoch) that decides cache expiry; for tests. */
  now?: () => number;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  issuer: string;
  /** The issuer without a trailing slash (cache key, discovery URL). */
  normalizedIssuer: string;
  credentials:
    { kind: 'key'; key: KeySource } | { kind: 'secret'; clientId: string; clientSecret: string };
  introspectionEndpoint?: string;
  projectId?: string;
  audience?: string[];
  cache: Required<Omit<CacheOptions, 'store' | 'storeSecret'>> & {
    store?: CacheStore;
    storeSecret?: string;
    enabled: boolean;
  };
  jwt: ResolvedJwtOptions;
  timeoutMs: number;
  retries: number;
  clockToleranceSeconds: number;
  maxInFlight: number;
  maxIntrospectionsPerSecond?: number;
  fetch?: typeof fetch;
  logger: Logger;
  now: () => number;
}

/**
 * Validates options and fills in defaults.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ issuer: 'https://acme.zitadel.cloud', clientId: 'api', clientSecret: 's' });
 * resolved.timeoutMs; // 5000
 * ```
 */
export function resolveOptions(options: IntrospectorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options must be an object', { field: 'options' });
  }
  const issuer = requireUrl(options.issuer, 'issuer');
  const cache = resolveCache(options.cache);
  return {
    issuer,
    normalizedIssuer: issuer.replace(/\/+$/, ''),
    credentials: resolveCredentials(options),
    introspectionEndpoint:
      options.introspectionEndpoint === undefined
        ? undefined
        : requireUrl(options.introspectionEndpoint, 'introspectionEndpoint'),
    projectId: optionalString(options.projectId, 'projectId'),
    audience: resolveAudience(options.audience),
    cache,
    jwt: resolveJwtOptions(options.jwt, {
      maxTtlSeconds: cache.maxTtlSeconds,
      introspectionEndpoint: options.introspectionEndpoint,
    }),
    timeoutMs: number(options.timeoutMs, 'timeoutMs', 5000, 1),
    retries: number(options.retries, 'retries', 1, 0, true),
    clockToleranceSeconds: number(options.clockToleranceSeconds, 'clockToleranceSeconds', 5, 0),
    maxInFlight: number(options.maxInFlight, 'maxInFlight', 100, 1, true),
    maxIntrospectionsPerSecond:
      options.maxIntrospectionsPerSecond === undefined
        ? undefined
        : number(options.maxIntrospectionsPerSecond, 'maxIntrospectionsPerSecond', 0, 1, true),
    fetch: optionalFunction(options.fetch, 'fetch'),
    logger: resolveLogger(options.logger),
    now: optionalFunction(options.now, 'now') ?? Date.now,
  };
}

function resolveCredentials(options: IntrospectorOptions): ResolvedOptions['credentials'] {
  const hasKey = options.key !== undefined && options.key !== null;
  const hasSecret = options.clientId !== undefined || options.clientSecret !== undefined;
  if (hasKey && hasSecret) {
    throw new ConfigError('give either key or clientId and clientSecret, not both', {
      field: 'key',
    });
  }
  if (hasKey) {
    if (typeof options.key !== 'string' && typeof options.key !== 'object') {
      throw new ConfigError('key must be a path, a JSON string or an object', { field: 'key' });
    }
    return { kind: 'key', key: options.key };
  }
  if (!hasSecret) {
    throw new ConfigError(
      'either key (an API application key file) or clientId and clientSecret is required',
      {
        field: 'key',
      },
    );
  }
  return {
    kind: 'secret',
    clientId: requireString(options.clientId, 'clientId'),
    clientSecret: requireString(options.clientSecret, 'clientSecret'),
  };
}

function resolveCache(cache: IntrospectorOptions['cache']): ResolvedOptions['cache'] {
  if (cache !== undefined && cache !== false && (typeof cache !== 'object' || cache === null)) {
    throw new ConfigError('cache must be an object or false', { field: 'cache' });
  }
  const given = cache || {};
  const store = given.store;
  if (store !== undefined && !isStore(store)) {
    throw new ConfigError('cache.store must have get, set and delete methods', {
      field: 'cache.store',
    });
  }
  return {
    enabled: cache !== false,
    maxEntries: number(given.maxEntries, 'cache.maxEntries', 10_000, 0, true),
    maxTtlSeconds: number(given.maxTtlSeconds, 'cache.maxTtlSeconds', 300, 0),
    inactiveTtlSeconds: number(given.inactiveTtlSeconds, 'cache.inactiveTtlSeconds', 10, 0),
    staleIfErrorSeconds: number(given.staleIfErrorSeconds, 'cache.staleIfErrorSeconds', 0, 0),
    storeTimeoutMs: number(given.storeTimeoutMs, 'cache.storeTimeoutMs', 50, 1),
    refreshAheadSeconds: number(given.refreshAheadSeconds, 'cache.refreshAheadSeconds', 30, 0),
    store,
    storeSecret: resolveStoreSecret(given.storeSecret),
  };
}

function resolveStoreSecret(secret: unknown): string | undefined {
  if (secret === undefined) return undefined;
  if (typeof secret !== 'string' || secret.length < 16) {
    throw new ConfigError('cache.storeSecret must be a string of at least 16 characters', {
      field: 'cache.storeSecret',
    });
  }
  return secret;
}

function resolveAudience(audience: unknown): string[] | undefined {
  if (audience === undefined) return undefined;
  const list = Array.isArray(audience) ? audience : [audience];
  if (list.length === 0 || !list.every((value) => typeof value === 'string' && value !== '')) {
    throw new ConfigError('audience must be a non-empty string or array of strings', {
      field: 'audience',
    });
  }
  return list as string[];
}

function resolveLogger(logger: unknown): Logger {
  if (logger === undefined) return silentLogger;
  const methods = ['debug', 'info', 'warn', 'error'] as const;
  if (
    typeof logger !== 'object' ||
    logger === null ||
    !methods.every((m) => typeof (logger as Record<string, unknown>)[m] === 'function')
  ) {
    throw new ConfigError('logger must have debug, info, warn and error methods', {
      field: 'logger',
    });
  }
  // Bound, so that pino's and winston's methods keep their `this`.
  const given = logger as Logger;
  return {
    debug: given.debug.bind(given),
    info: given.info.bind(given),
    warn: given.warn.bind(given),
    error: given.error.bind(given),
  };
}

function isStore(value: unknown): value is CacheStore {
  const store = value as Record<string, unknown> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.get === 'function' &&
    typeof store.set === 'function' &&
    typeof store.delete === 'function'
  );
}

function requireUrl(value: unknown, field: string): string {
  const text = requireString(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${field} must be an absolute http(s) URL`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${field} must be an http(s) URL`, { field });
  }
  return text;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`${field} is required and must be a non-empty string`, { field });
  }
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : requireString(value, field);
}

function optionalFunction<T>(value: T | undefined, field: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigError(`${field} must be a function`, { field });
  }
  return value;
}

function number(
  value: unknown,
  field: string,
  fallback: number,
  min: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new ConfigError(
      `${field} must be a${integer ? 'n integer' : ' number'} of at least ${min}`,
      { field },
    );
  }
  return value;
}
