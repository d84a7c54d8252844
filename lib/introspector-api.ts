/**
 * The public shape of the core: what `introspect()` answers, the counters of
 * `stats()` and the {@link Introspector} interface.
 */
import type { IntrospectorHealth } from './telemetry/health';
import type { AuthInfo } from './token-info';
import type { LocalDecision } from './jwt/local-verification';

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
  /** Misses turned away by `maxInFlight`, the rate budget or an open circuit. */
  shed: number;
  /** Misses answered by another replica's call (read from the shared store). */
  peerAnswered: number;
  /** Background refreshes started by refresh-ahead (they count nowhere else but `introspections`). */
  refreshes: number;
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
  /** Answers from the cache or asks ZITADEL; rejects with an AuthError when no decision can be made. */
  introspect(token: string): Promise<TokenInfo>;
  /**
   * Drops one token from every cache tier (e.g. after logout), on every
   * replica sharing a coordinating store.
   *
   * @example
   * ```ts
   * await introspector.evict(req.auth!.token);
   * ```
   */
  evict(token: string): Promise<void>;
  /**
   * Drops every cached answer of one user (the `subject`), on every replica;
   * work in flight for that user does not write its answer back.
   *
   * @example
   * ```ts
   * await introspector.evictSubject('301255683459087361'); // e.g. after locking the user
   * ```
   */
  evictSubject(subject: string): Promise<void>;
  /**
   * Drops every cached answer, on every replica (entries stored before it
   * are misses; nothing is scanned).
   *
   * @example
   * ```ts
   * await introspector.evictAll(); // e.g. after an incident or a role change
   * ```
   */
  evictAll(): Promise<void>;
  /** The counters since start-up. */
  stats(): IntrospectorStats;
  /**
   * For readiness probes and dashboards: the circuit, discovery (and the
   * fleet store and the JWKS when used). `ok` means this replica can take
   * traffic (discovery, the store's subscription, the JWKS); an open circuit
   * is reported in `circuit` but leaves `ok` true, since cached tokens still
   * serve and every replica sees the same circuit. Cheap and synchronous; no
   * secret in it.
   *
   * @example
   * ```ts
   * app.get('/ready', (req, res) => {
   *   const health = auth.introspector.health();
   *   res.status(health.ok ? 200 : 503).json(health);
   * });
   * ```
   */
  health(): IntrospectorHealth;
  /**
   * Aborts calls in flight and closes the connections to ZITADEL (unless a
   * `fetch` was given: those are the caller's); later calls reject with
   * IntrospectionUnavailableError.
   */
  close(): Promise<void>;
}

/**
 * Internal: `introspector[INTROSPECT_NOW_IF_CACHED](token)` answers as
 * `introspect()` does, but a memory-tier hit synchronously, not as a promise,
 * and as the cached decision itself (no per-request token view: the caller
 * makes it). Lets the middleware call `next()` without a promise on the hot
 * path, and hash the token once on a miss; not part of the public API.
 */
export const INTROSPECT_NOW_IF_CACHED: unique symbol = Symbol('introspectNowIfCached');
