/**
 * What stands between a cache miss and ZITADEL: the circuit (ZITADEL's
 * `Retry-After`, the 429 back-off, the probe after it), the
 * `maxIntrospectionsPerSecond` budget and the `maxInFlight` bound. Each
 * refuses with a 503 at once, so a flood of unknown tokens or a struggling
 * ZITADEL costs neither side more than it can take. With a fleet link the
 * circuit and the budget are the fleet's (lib/cache/circuit.ts, rate-budget.ts).
 * Refusals carry the telemetry reason `circuit_open` or `shed`.
 */
import { IntrospectionUnavailableError } from './errors';
import { createCircuit, type BusySignal, type CircuitChange } from './cache/circuit';
import type { FleetLink } from './cache/fleet-link';
import { createRateBudget } from './cache/rate-budget';
import { withReason } from './telemetry/decision';
import { RateLimitedError, ServerBusyError } from './zitadel/introspection';

export type { CircuitChange } from './cache/circuit';

/**
 * One admitted call: end it with exactly one of `succeeded()` or `failed()`.
 *
 * @example
 * ```ts
 * const admission = await gate.admit();
 * try { const answer = await call(); admission.succeeded(); return answer; }
 * catch (e) { throw await admission.failed(e); }
 * ```
 */
export interface Admission {
  /** ZITADEL answered (whatever `active` says): frees the slot; a probe closes the circuit. */
  succeeded(): void;
  /** Frees the slot; a busy ZITADEL opens the circuit. Resolves to the error to throw. */
  failed(error: unknown): Promise<unknown>;
}

/** The gate of {@link createBackPressure}. */
export interface BackPressure {
  /**
   * Lets one call through (in flight until its admission ends), or rejects
   * with {@link IntrospectionUnavailableError} while the circuit is open, a
   * probe is out, the budget is spent or `maxInFlight` calls are open.
   */
  admit(): Promise<Admission>;
  /** The circuit now, for `health()`. */
  circuit(): { open: boolean; secondsLeft: number };
  /** Hears the fleet's circuit messages once its link is there (call after attaching). */
  connect(): void;
  /** Stops listening to the fleet. */
  close(): void;
}

/**
 * Options of {@link createBackPressure}.
 *
 * @example
 * ```ts
 * const options: BackPressureOptions = { maxInFlight: 100, now: Date.now, probeLockMs: 11_000 };
 * ```
 */
export interface BackPressureOptions {
  maxInFlight: number;
  now: () => number;
  /** Logical introspections allowed to start per second; undefined = no budget. */
  maxIntrospectionsPerSecond?: number;
  /**
   * The fleet's link, asked lazily (a coordinating store has one once the
   * credential is loaded); undefined = this process alone.
   */
  link?: () => FleetLink | undefined;
  /** How long a probe lock holds: longer than one call with its retries. */
  probeLockMs: number;
  /** Told of every circuit change (telemetry). */
  onCircuitChange?: (change: CircuitChange) => void;
}

/**
 * Creates the gate.
 *
 * @example
 * ```ts
 * const gate = createBackPressure({ maxInFlight: 100, now: Date.now, probeLockMs: 11_000 });
 * const admission = await gate.admit();
 * try { await callZitadel(); admission.succeeded(); } catch (e) { throw await admission.failed(e); }
 * ```
 */
export function createBackPressure(options: BackPressureOptions): BackPressure {
  const { maxInFlight, now, link } = options;
  const perSecond = options.maxIntrospectionsPerSecond;
  const circuit = createCircuit({
    now,
    link,
    probeLockMs: options.probeLockMs,
    onChange: options.onCircuitChange,
  });
  const budget = perSecond === undefined ? undefined : createRateBudget({ perSecond, now, link });
  let inFlight = 0;

  return {
    async admit() {
      if (inFlight >= maxInFlight) {
        const error = new IntrospectionUnavailableError(
          `too many introspections in flight (maxInFlight ${maxInFlight})`,
        );
        throw withReason(error, 'shed');
      }
      // Held from here, so concurrent admissions awaiting Redis cannot overshoot.
      inFlight++;
      let pass;
      try {
        pass = await circuit.admit();
      } catch (error) {
        inFlight--;
        throw withReason(error as IntrospectionUnavailableError, 'circuit_open');
      }
      if (budget && !(await budget.take())) {
        inFlight--;
        circuit.abandon(pass);
        const error = new IntrospectionUnavailableError(
          `over the introspection budget (maxIntrospectionsPerSecond ${perSecond})`,
          { retryAfterSeconds: 1 },
        );
        throw withReason(error, 'shed');
      }
      let ended = false;
      const end = () => {
        if (ended) return false;
        ended = true;
        inFlight--;
        return true;
      };
      return {
        succeeded() {
          if (end()) circuit.succeeded(pass);
        },
        async failed(error) {
          if (!end()) return error;
          const seconds = await circuit.failed(pass, busySignalOf(error));
          if (seconds === undefined || !(error instanceof RateLimitedError)) return error;
          // The request that met the 429 answers with the back-off it started.
          return new RateLimitedError(error.message, { retryAfterSeconds: seconds });
        },
      };
    },
    circuit: () => circuit.state(),
    connect: () => circuit.connect(),
    close() {
      circuit.close();
    },
  };
}

function busySignalOf(error: unknown): BusySignal {
  if (error instanceof ServerBusyError) return { retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof RateLimitedError) return 'rate-limited';
  return undefined;
}
