/**
 * The framework-free core: `introspect(token)` → {@link TokenInfo}. The cache
 * sits in front of the wire to ZITADEL; single-flight in front of both, so
 * concurrent requests for one token cost one lookup and at most one call.
 */
import { setMaxListeners } from 'node:events';
import { createBackPressure } from './back-pressure';
import { ConfigError, IntrospectionUnavailableError } from './errors';
import { rateLimitedLog } from './logger';
import { resolveOptions, type IntrospectorOptions, type ResolvedOptions } from './options';
import { audienceOf, toAuthInfo, withToken, type AuthInfo } from './token-info';
import {
  cacheKey,
  createResultCache,
  type CacheLookup,
  type ResultCache,
} from './cache/result-cache';
import { createSingleFlight } from './cache/single-flight';
import { createAgentFetch } from './zitadel/agent-fetch';
import { createDiscovery } from './zitadel/discovery';
import { introspectToken, ServerBusyError } from './zitadel/introspection';
import { createClientAuthentication, type ClientAuthenticationSource } from './client-auth';
import { createLocalVerification, type LocalDecision } from './jwt/local-verification';

export type { CacheOptions, IntrospectorOptions } from './options';
export type { CacheStore } from './cache/result-cache';

/**
 * The outcome of one introspection: an active token with its caller, or the
 * reason it is not accepted.
 *
 * @example
 * ```ts
 * const info = await introspector.introspect(token);
 * const caller = info.active ? info.auth.subject : `refused: ${info.reason}`;
 * ```
 */
export type TokenInfo =
  | { active: true; auth: AuthInfo }
  | { active: false; reason: 'inactive' | 'expired' | 'audience' }
  | Extract<LocalDecision, { active: false }>;

/**
 * Counters since start-up (DESIGN.md "Decisions → Cache").
 *
 * @example
 * ```ts
 * const { hits, misses } = introspector.stats();
 * ```
 */
export interface IntrospectorStats {
  /** Answered from a cache tier (stale answers count in `staleServed` only). */
  hits: number;
  /** Requests that started an introspection. */
  misses: number;
  /** Requests that joined a lookup already in flight for the same token. */
  coalesced: number;
  /** HTTP requests sent to the introspection endpoint, retries included. */
  introspections: number;
  /** Introspections that ended in an outage or a rejection of our client authentication. */
  errors: number;
  /** Stale answers served while ZITADEL was unavailable. */
  staleServed: number;
  /** Misses turned away by `maxInFlight` or an open circuit. */
  shed: number;
  /** JWTs decided without a call (`jwt: { verify: 'local' }`), accepted or refused. */
  localVerifications: number;
  /** Background introspections of locally accepted JWTs. */
  revalidations: number;
}

/**
 * The core, usable without Express.
 *
 * @example
 * ```ts
 * const introspector = createIntrospector({ issuer, key: './api-key.json' });
 * await introspector.ready();
 * const info = await introspector.introspect(token);
 * ```
 */
export interface Introspector {
  /** Loads the key file and runs discovery; rejects with ConfigError or IntrospectionUnavailableError. */
  ready(): Promise<void>;
  introspect(token: string): Promise<TokenInfo>;
  /** Drops one token from every cache tier (e.g. after logout). */
  evict(token: string): Promise<void>;
  stats(): IntrospectorStats;
  /**
   * Aborts calls in flight and closes the connections to ZITADEL (unless a
   * `fetch` was given: those are the caller's); later calls reject with
   * IntrospectionUnavailableError.
   */
  close(): Promise<void>;
}

/**
 * Internal: `introspector[INTROSPECT_NOW_IF_CACHED](token)` answers as
 * `introspect()` does, but a memory-tier hit synchronously, not as a promise.
 * Lets the middleware call `next()` without a promise on the hot path, and
 * hash the token once on a miss; not part of the public API.
 */
export const INTROSPECT_NOW_IF_CACHED: unique symbol = Symbol('introspectNowIfCached');

/** What the cache and single-flight hold: a decision without the raw token. */
type Decision = { active: true; auth: AuthInfo } | Extract<TokenInfo, { active: false }>;

/**
 * Creates the core. Bad options throw {@link ConfigError} at once; key-file
 * and discovery problems surface from `ready()` and `introspect()`.
 *
 * @example
 * ```ts
 * const introspector = createIntrospector({
 *   issuer: 'https://acme.zitadel.cloud',
 *   key: './api-key.json',
 *   projectId: '301255683459087361',
 * });
 * const info = await introspector.introspect(token);
 * if (info.active && info.auth.hasRole('reader')) { … }
 * ```
 */
export function createIntrospector(options: IntrospectorOptions): Introspector & {
  [INTROSPECT_NOW_IF_CACHED](token: string): TokenInfo | Promise<TokenInfo>;
} {
  const config = resolveOptions(options);
  const { logger, now } = config;
  warnOnPlainHttp(config);

  // One signal ends every call in flight on close(); each call listens on it,
  // so up to maxInFlight listeners are expected, not a leak.
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  // Our own keep-alive pool unless the caller brings a fetch: close() closes it.
  const http = config.fetch ? undefined : createAgentFetch();
  const fetchFn = config.fetch ?? http?.fetch;
  const discovery = createDiscovery({
    issuer: config.issuer,
    introspectionEndpoint: config.introspectionEndpoint,
    fetch: fetchFn,
    timeoutMs: config.timeoutMs,
    now,
    signal: abort.signal,
  });
  const clientAuth: ClientAuthenticationSource = createClientAuthentication(
    config.credentials,
    now,
  );
  const cache = config.cache.enabled ? createCache(config) : undefined;
  const flight = createSingleFlight<Decision>();
  const logRejection = rateLimitedLog(logger, 'error', 60_000, now);
  // While discovery is down every miss fails with the same remembered error
  // (retried at most every 5 s): one warn line per retry, not per request.
  const logSetupOutage = rateLimitedLog(logger, 'warn', 5_000, now);
  const counters: Omit<IntrospectorStats, 'localVerifications' | 'revalidations'> = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    introspections: 0,
    errors: 0,
    staleServed: 0,
    shed: 0,
  };
  const gate = createBackPressure({ maxInFlight: config.maxInFlight, now });
  // jwt: { verify: 'local' }: decides JWTs at the miss point, after both cache tiers.
  const localJwt = createLocalVerification(config, {
    fetch: fetchFn,
    signal: abort.signal,
    metadata: () => discovery.get(),
    clientId: async () => clientAuth.clientId() ?? (await clientAuth.load()).clientId,
    remember: async (key, claims, value) => cache?.set(key, { claims, value }),
    introspect: (key, token) => flight.run(key, () => callZitadel(key, token)).promise,
  });

  async function introspect(token: string): Promise<TokenInfo> {
    if (abort.signal.aborted) throw new IntrospectionUnavailableError('the introspector is closed');
    const clientId = clientAuth.clientId() ?? (await clientAuth.load()).clientId;
    const key = cacheKey(config.normalizedIssuer, clientId, token);
    // A memory hit needs neither single-flight nor a promise chain.
    return peekKey(key, token) ?? coalesced(key, token);
  }

  function introspectNowIfCached(token: string): TokenInfo | Promise<TokenInfo> {
    const clientId = clientAuth.clientId();
    // Not loaded yet, or closed: the slow path knows what to do.
    if (clientId === undefined || abort.signal.aborted) return introspect(token);
    const key = cacheKey(config.normalizedIssuer, clientId, token);
    return peekKey(key, token) ?? coalesced(key, token);
  }

  async function coalesced(key: string, token: string): Promise<TokenInfo> {
    const { promise, joined } = flight.run(key, () => lookup(key, token));
    if (joined) counters.coalesced++;
    return answer(await promise, token);
  }

  function peekKey(key: string, token: string): TokenInfo | undefined {
    const hit = cache?.peek(key);
    if (!hit) return undefined;
    counters.hits++;
    return answer(decisionOf(hit), token);
  }

  function answer(decision: Decision, token: string): TokenInfo {
    return decision.active ? { active: true, auth: withToken(decision.auth, token) } : decision;
  }

  async function lookup(key: string, token: string): Promise<Decision> {
    const cached = cache && (await cache.get(key));
    if (cached) {
      counters.hits++;
      return decisionOf(cached);
    }
    const local = await localJwt.verify(key, token);
    if (local) return local;
    try {
      return await callZitadel(key, token);
    } catch (error) {
      const stale = error instanceof IntrospectionUnavailableError && cache?.getStale(key);
      if (!stale) throw error;
      counters.staleServed++;
      logger.warn(`serving a stale introspection result: ${(error as Error).message}`);
      return stale;
    }
  }

  async function callZitadel(key: string, token: string): Promise<Decision> {
    try {
      gate.admit();
    } catch (error) {
      counters.shed++;
      throw error;
    }
    counters.misses++;
    try {
      const [auth, metadata] = await Promise.all([clientAuth.load(), discovery.get()]).catch(
        (error: unknown) => {
          throw new SetupFailure(error);
        },
      );
      const claims = await introspectToken(token, {
        endpoint: metadata.introspectionEndpoint,
        audience: metadata.issuer,
        auth,
        timeoutMs: config.timeoutMs,
        retries: config.retries,
        fetch: fetchFn,
        signal: abort.signal,
        onAttempt: () => counters.introspections++,
      });
      const decision = decide(claims);
      // An active answer is cached with its decision (also a denial for the wrong audience).
      if (cache) await cache.set(key, { claims, value: decision });
      return decision;
    } catch (failure) {
      counters.errors++;
      const error = failure instanceof SetupFailure ? failure.error : failure;
      reportFailure(error, failure instanceof SetupFailure);
      throw error;
    } finally {
      gate.release();
    }
  }

  /** Active, unexpired and for us — else the reason why not. */
  function decide(claims: Record<string, unknown>): Decision {
    if (claims.active !== true) return { active: false, reason: 'inactive' };
    const exp = claims.exp;
    if (typeof exp === 'number' && exp * 1000 < now() - config.clockToleranceSeconds * 1000) {
      return { active: false, reason: 'expired' };
    }
    if (config.audience) {
      const audience = audienceOf(claims.aud);
      if (!config.audience.some((wanted) => audience.includes(wanted))) {
        return { active: false, reason: 'audience' };
      }
    }
    return { active: true, auth: toAuthInfo(claims, { projectId: config.projectId }) };
  }

  function reportFailure(error: unknown, beforeTheCall: boolean) {
    const message = error instanceof Error ? error.message : String(error);
    if (beforeTheCall && !(error instanceof ConfigError)) {
      logSetupOutage(`introspection not attempted: ${message}`);
    } else if (error instanceof ServerBusyError) {
      gate.openFor(error.retryAfterSeconds);
      logger.warn(`introspection: ${message}; not calling again for ${error.retryAfterSeconds} s`);
    } else if (error instanceof ConfigError) {
      logRejection(`introspection: ${message}`);
    } else {
      logger.warn(`introspection failed: ${message}`);
    }
  }

  function createCache(resolved: ResolvedOptions): ResultCache<Decision> {
    return createResultCache<Decision>({
      ...resolved.cache,
      clockToleranceSeconds: resolved.clockToleranceSeconds,
      now,
      logger,
      revive: decide,
    });
  }

  return {
    async ready() {
      await Promise.all([clientAuth.load(), discovery.get(), localJwt.ready()]);
    },
    introspect,
    async evict(token) {
      await localJwt.evicted(token);
      if (!cache) return;
      const clientId = clientAuth.clientId() ?? (await clientAuth.load()).clientId;
      await cache.delete(cacheKey(config.normalizedIssuer, clientId, token));
    },
    stats: () => ({ ...counters, ...localJwt.stats() }),
    [INTROSPECT_NOW_IF_CACHED]: introspectNowIfCached,
    async close() {
      abort.abort();
      localJwt.close();
      http?.destroy();
    },
  };
}

/** A cached `active:false` is a flag only; an active entry holds its decision. */
function decisionOf(hit: CacheLookup<Decision>): Decision {
  return hit.active ? hit.value : { active: false, reason: 'inactive' };
}

/** Marks a failure of discovery or the key file, before any introspection call. */
class SetupFailure {
  constructor(readonly error: unknown) {}
}

function warnOnPlainHttp(config: ResolvedOptions) {
  const { protocol, hostname } = new URL(config.issuer);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
  if (protocol === 'http:' && !loopback) {
    config.logger.warn(
      'the ZITADEL issuer is a plain http:// URL on a non-loopback host: tokens and client assertions travel unencrypted',
    );
  }
}
