/**
 * The framework-free core: `introspect(token)` → {@link TokenInfo}. The cache
 * sits in front of the wire to ZITADEL; single-flight in front of both, so
 * concurrent requests for one token cost one lookup and at most one call.
 */
import { setMaxListeners } from 'node:events';
import { createBackPressure } from './back-pressure';
import { backPressureOptions } from './fleet-flow';
import { IntrospectionUnavailableError } from './errors';
import { createIntrospectionCall, type Decision, type Sourced } from './introspection-call';
import { resolveOptions, type IntrospectorOptions, type ResolvedOptions } from './options';
import { audienceOf, toAuthInfo, withToken } from './token-info';
import { jwtAuthInfo } from './jwt/jwt-auth-info';
import { cacheKey, createResultCache, type CacheLookup } from './cache/result-cache';
import { createFleet, type Fleet } from './cache/fleet';
import { FLEET_HOOKS, type FleetHooks } from './cache/fleet-hooks';
import { FLEET_LINK, type FleetLink } from './cache/fleet-link';
import { createRefreshAhead } from './cache/refresh-ahead';
import { createSingleFlight } from './cache/single-flight';
import { unverifiedJti } from './cache/token-jti';
import {
  INTROSPECT_NOW_IF_CACHED,
  type Introspector,
  type IntrospectorStats,
  type TokenInfo,
} from './introspector-api';
import { createAgentFetch } from './zitadel/agent-fetch';
import { createDiscovery } from './zitadel/discovery';
import { createClientAuthentication, type ClientAuthenticationSource } from './client-auth';
import { withSource } from './telemetry/decision';
import { createHealth } from './telemetry/health';
import { servedWord } from './telemetry/log-reason';
import { createLocalVerification } from './jwt/local-verification';

export type { CacheOptions, IntrospectorOptions } from './options';
export type { CacheStore } from './cache/result-cache';
export type { IntrospectorHealth } from './telemetry/health';
export * from './introspector-api';

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
  /** @internal the middleware's synchronous hit path */
  [INTROSPECT_NOW_IF_CACHED](token: string): Decision | Promise<TokenInfo>;
  /** @internal the event webhook's and local JWT's seam to the fleet */
  [FLEET_HOOKS]: FleetHooks;
  /** @internal the fleet policies' transport (undefined without a coordinating store) */
  [FLEET_LINK](): FleetLink | undefined;
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
  const fleet = createFleet({
    ...config.cache,
    store: config.cache.enabled ? config.cache.store : undefined,
    issuer: config.normalizedIssuer,
    logger,
    now,
    callMs: config.timeoutMs * (config.retries + 1),
    credential: () => clientAuth.load(),
  });
  const cache = config.cache.enabled ? createCache(config, fleet) : undefined;
  if (cache) fleet.bind(cache as never);
  const flight = createSingleFlight<Sourced>();
  const counters: Omit<IntrospectorStats, 'localVerifications' | 'revalidations'> = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    introspections: 0,
    errors: 0,
    staleServed: 0,
    shed: 0,
    peerAnswered: 0,
    refreshes: 0,
  };
  const gate = createBackPressure({ ...backPressureOptions(config, options, fleet.link), now });
  const callZitadel = createIntrospectionCall({
    gate,
    fleet,
    cache,
    counters,
    decide,
    setup: () => Promise.all([clientAuth.load(), discovery.get()]),
    request: { ...config, fetch: fetchFn, signal: abort.signal },
    logger,
    now,
  });
  // Refresh-ahead: adopt a peer's newer store entry, else call under the fleet's lock.
  const refresher = createRefreshAhead({
    refresh: async (key, token) => {
      counters.refreshes++;
      if (!(await cache!.adoptFromStore(key))) await callZitadel(key, token, true);
    },
    onError: (error) => logger.debug(`refresh-ahead failed, the entry serves on: ${String(error)}`),
  });
  const hooks = fleet.hooks(config.projectId);
  // jwt: { verify: 'local' }: decides JWTs at the miss point, after both cache tiers.
  const localJwt = createLocalVerification(config, {
    fetch: fetchFn,
    signal: abort.signal,
    metadata: () => discovery.get(),
    clientId: async () => clientAuth.clientId() ?? (await clientAuth.load()).clientId,
    // Through the eviction ledger and the subject/session index, like any answer.
    remember: async (key, claims, value) => {
      await cache?.set(key, { claims, value, source: 'jwt' }, cache.begin());
    },
    introspect: async (key, token) =>
      (await flight.run(key, () => callZitadel(key, token)).promise).decision,
    fleet: () => hooks,
  });

  async function introspect(token: string): Promise<TokenInfo> {
    if (abort.signal.aborted) throw new IntrospectionUnavailableError('the introspector is closed');
    const key = await keyOf(token);
    // A memory hit needs neither single-flight nor a promise chain.
    const hit = peekKey(key, token);
    return hit ? answer(hit, token) : coalesced(key, token);
  }

  /**
   * A memory hit as the cached decision itself, synchronously: the middleware
   * makes the per-request view (token, request state) in one allocation.
   */
  function introspectNowIfCached(token: string): Decision | Promise<TokenInfo> {
    const clientId = clientAuth.clientId();
    // Not loaded yet, or closed: the slow path knows what to do.
    if (clientId === undefined || abort.signal.aborted) return introspect(token);
    const key = cacheKey(config.normalizedIssuer, clientId, token);
    return peekKey(key, token) ?? coalesced(key, token);
  }

  async function coalesced(key: string, token: string): Promise<TokenInfo> {
    const { promise, joined } = flight.run(key, () => lookup(key, token));
    if (joined) counters.coalesced++;
    const { decision, source } = await promise;
    // A refusal may be the cached object itself: mark a copy, never what the cache holds.
    const info = answer(decision, token);
    return withSource(info.active ? info : { ...info }, source);
  }

  function peekKey(key: string, token: string): Decision | undefined {
    const hit = cache?.peek(key);
    if (!hit) return undefined;
    counters.hits++;
    if (hit.active && hit.refreshDue) refresher.start(key, token);
    return decisionOf(hit);
  }

  function answer(decision: Decision, token: string): TokenInfo {
    return decision.active ? { active: true, auth: withToken(decision.auth, token) } : decision;
  }

  async function lookup(key: string, token: string): Promise<Sourced> {
    await fleet.attach();
    gate.connect();
    const inMemory = cache?.peek(key);
    const cached = inMemory ?? (cache && (await cache.get(key, cache.begin())));
    if (cached) {
      counters.hits++;
      return { decision: decisionOf(cached), source: inMemory ? 'memory' : 'store' };
    }
    const local = await localJwt.verify(key, token);
    if (local) return { decision: local, source: 'jwt' };
    try {
      return await callZitadel(key, token);
    } catch (error) {
      const stale = error instanceof IntrospectionUnavailableError && cache?.getStale(key);
      if (!stale) throw error;
      counters.staleServed++;
      logger.warn(
        servedWord(
          `serving a stale introspection result: ${(error as Error).message}`,
          'stale',
          error,
        ),
      );
      return { decision: stale, source: 'stale' };
    }
  }

  /** Active, unexpired and for us — else the reason why not. `source` 'jwt': a stored local verification. */
  function decide(claims: Record<string, unknown>, source?: string): Decision {
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
    if (source === 'jwt') return { active: true, auth: jwtAuthInfo(claims, config.projectId) };
    return { active: true, auth: toAuthInfo(claims, { projectId: config.projectId }) };
  }

  function createCache(resolved: ResolvedOptions, shared: Fleet) {
    return createResultCache<Decision>({
      ...resolved.cache,
      store: undefined,
      shared: shared.shared,
      envelope: shared.envelope,
      ownerId: shared.ownerId,
      clockToleranceSeconds: resolved.clockToleranceSeconds,
      now,
      logger,
      revive: (claims, source) => decide(claims, source),
    });
  }

  async function keyOf(token: string): Promise<string> {
    const clientId = clientAuth.clientId() ?? (await clientAuth.load()).clientId;
    return cacheKey(config.normalizedIssuer, clientId, token);
  }

  return {
    async ready() {
      await Promise.all([clientAuth.load(), discovery.get(), localJwt.ready()]);
      await fleet.ready(config.timeoutMs);
      gate.connect();
    },
    introspect,
    async evict(token) {
      const key = await keyOf(token);
      const hit = cache?.peek(key);
      const claims = hit?.active && hit.value.active ? hit.value.auth.claims : undefined;
      const jti =
        unverifiedJti(token) ?? (typeof claims?.jti === 'string' ? claims.jti : undefined);
      await fleet.evict(key, jti);
    },
    async evictSubject(subject) {
      if (typeof subject !== 'string')
        throw new TypeError('evictSubject: subject must be a string');
      await fleet.evictSubject(subject);
    },
    evictAll: () => fleet.evictAll(),
    [FLEET_HOOKS]: hooks,
    [FLEET_LINK]: fleet.link,
    stats: () => ({ ...counters, ...localJwt.stats() }),
    health: createHealth({
      circuit: gate.circuit,
      discoveryOk: discovery.loaded,
      ...(config.cache.enabled && config.cache.store ? { store: () => fleet.health()! } : {}),
      ...(localJwt.jwks ? { jwks: localJwt.jwks } : {}),
    }),
    [INTROSPECT_NOW_IF_CACHED]: introspectNowIfCached,
    async close() {
      abort.abort();
      gate.close();
      await refresher.close();
      localJwt.close();
      http?.destroy();
      await fleet.close();
    },
  };
}

/** A cached `active:false` is a flag only; an active entry holds its decision. */
function decisionOf(hit: CacheLookup<Decision>): Decision {
  return hit.active ? hit.value : { active: false, reason: 'inactive' };
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
