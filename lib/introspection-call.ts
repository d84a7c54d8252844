/**
 * The call path of a miss, below the caches: admission at the gate (circuit,
 * rate budget, `maxInFlight`), the fleet's single-flight (one replica calls,
 * the others take its stored answer), then the introspection call itself,
 * whose answer is cached unless an eviction came meanwhile. A background
 * refresh (refresh-ahead) takes the same path but counts nowhere a request
 * counts (`misses`, `errors`, `shed`, `peerAnswered`).
 */
import type { Admission, BackPressure } from './back-pressure';
import { ConfigError, IntrospectionUnavailableError } from './errors';
import { rateLimitedLog, type Logger } from './logger';
import type { IntrospectorStats, TokenInfo } from './introspector-api';
import type { AuthInfo } from './token-info';
import type { WorkStart } from './cache/eviction-ledger';
import type { Fleet } from './cache/fleet';
import { throughFleet } from './cache/fleet-flight';
import type { ResultCache } from './cache/result-cache';
import type { DecisionSource } from './telemetry/channels';
import { withReasonWord } from './telemetry/log-reason';
import {
  introspectToken,
  RateLimitedError,
  ServerBusyError,
  type ClientAuthentication,
} from './zitadel/introspection';

/** What the cache and single-flight hold: a decision without the raw token. */
export type Decision = { active: true; auth: AuthInfo } | Extract<TokenInfo, { active: false }>;

/** A decision with the tier or call that made it (for the telemetry's `source`). */
export type Sourced = { decision: Decision; source: DecisionSource };

/** The counters the call path moves. */
export type CallCounters = Pick<
  IntrospectorStats,
  'misses' | 'introspections' | 'errors' | 'shed' | 'peerAnswered'
>;

/**
 * What {@link createIntrospectionCall} needs from its introspector.
 *
 * @example
 * ```ts
 * const call = createIntrospectionCall({ gate, fleet, cache, counters, decide, logger, now,
 *   setup: () => Promise.all([clientAuth.load(), discovery.get()]), request });
 * ```
 */
export interface IntrospectionCallOptions {
  gate: BackPressure;
  fleet: Pick<Fleet, 'flight'>;
  cache: ResultCache<Decision> | undefined;
  counters: CallCounters;
  /** Turns claims into a decision (active, unexpired, for us). */
  decide(claims: Record<string, unknown>): Decision;
  /** The credential and the discovered endpoint; a failure is a setup outage. */
  setup(): Promise<[ClientAuthentication, { introspectionEndpoint: string; issuer: string }]>;
  /** The per-call transport settings of `introspectToken`. */
  request: { timeoutMs: number; retries: number; fetch?: typeof fetch; signal: AbortSignal };
  logger: Logger;
  now: () => number;
}

/**
 * Creates the call path.
 *
 * @example
 * ```ts
 * const { decision, source } = await call(key, token);
 * await call(key, token, true); // a background refresh
 * ```
 */
export function createIntrospectionCall(
  options: IntrospectionCallOptions,
): (key: string, token: string, background?: boolean) => Promise<Sourced> {
  const { gate, fleet, cache, counters, logger, now } = options;
  const logRejection = rateLimitedLog(logger, 'error', 60_000, now);
  // While discovery is down every miss fails with the same remembered error
  // (retried at most every 5 s): one warn line per retry, not per request.
  const logSetupOutage = rateLimitedLog(logger, 'warn', 5_000, now);

  return async function callZitadel(key, token, background = false) {
    let admission: Admission;
    try {
      admission = await gate.admit();
    } catch (error) {
      if (!background) counters.shed++;
      throw error;
    }
    let source: DecisionSource = 'introspection';
    try {
      const decision = await throughFleet(
        fleet.flight(),
        key,
        {
          peer: async () => {
            // A refresh takes the peer's answer only when it is newer than what it holds.
            const peer = cache && (await (background ? adopt(key) : cache.getShared(key)));
            if (!peer) return undefined;
            if (!background) counters.peerAnswered++;
            source = 'peer';
            return peer.active ? peer.value : ({ active: false, reason: 'inactive' } as const);
          },
          call: (startedAt) =>
            introspectNow(key, token, cache?.begin(startedAt), admission, background),
          outage: (seconds) =>
            new IntrospectionUnavailableError('introspection failed on another replica', {
              retryAfterSeconds: seconds,
            }),
          retryAfterOf: (error) =>
            error instanceof IntrospectionUnavailableError ? error.retryAfterSeconds : undefined,
        },
        { refresh: background },
      );
      // A peer's answer: ZITADEL answered (ends the admission if the call did not).
      admission.succeeded();
      return { decision, source };
    } catch (error) {
      // Already ended by the call itself: the same error comes back.
      throw await admission.failed(error);
    }
  };

  async function adopt(key: string) {
    return (await cache!.adoptFromStore(key)) ? cache!.peek(key) : undefined;
  }

  /** The call itself: counted a miss, its answer cached unless an eviction came meanwhile. */
  async function introspectNow(
    key: string,
    token: string,
    work: WorkStart | undefined,
    admission: Admission,
    background: boolean,
  ): Promise<{ value: Decision; stored: boolean }> {
    if (!background) counters.misses++;
    try {
      const [auth, metadata] = await options.setup().catch((error: unknown) => {
        throw new SetupFailure(error);
      });
      const claims = await introspectToken(token, {
        ...options.request,
        endpoint: metadata.introspectionEndpoint,
        audience: metadata.issuer,
        auth,
        onAttempt: () => counters.introspections++,
      });
      admission.succeeded();
      const decision = options.decide(claims);
      // An active answer is cached with its decision (also a denial for the wrong audience).
      const stored = cache ? await cache.set(key, { claims, value: decision }, work) : false;
      return { value: decision, stored };
    } catch (failure) {
      if (!background) counters.errors++;
      const setup = failure instanceof SetupFailure;
      const error = await admission.failed(setup ? failure.error : failure);
      reportFailure(error, setup);
      throw error;
    }
  }

  /** One line per failed call, ending in the reason its refusal event names. */
  function reportFailure(error: unknown, beforeTheCall: boolean) {
    const message = error instanceof Error ? error.message : String(error);
    const line = (text: string) => withReasonWord(text, error);
    if (beforeTheCall && !(error instanceof ConfigError)) {
      logSetupOutage(line(`introspection not attempted: ${message}`));
    } else if (error instanceof ServerBusyError || error instanceof RateLimitedError) {
      logger.warn(
        line(`introspection: ${message}; not calling again for ${error.retryAfterSeconds} s`),
      );
    } else if (error instanceof ConfigError) {
      logRejection(line(`introspection: ${message}`));
    } else {
      logger.warn(line(`introspection failed: ${message}`));
    }
  }
}

/** Marks a failure of discovery or the key file, before any introspection call. */
class SetupFailure {
  constructor(readonly error: unknown) {}
}
