/**
 * What stands between a cache miss and ZITADEL: the circuit that a 429/503
 * with `Retry-After` opens, and the `maxInFlight` bound on open calls. Both
 * refuse with a 503 at once, so a flood of unknown tokens or a struggling
 * ZITADEL costs neither side more than it can take.
 */
import { IntrospectionUnavailableError } from './errors';
import { publishCircuit } from './telemetry/channels';
import { withReason } from './telemetry/decision';

/** The gate of {@link createBackPressure}. */
export interface BackPressure {
  /**
   * Lets one call through (count it as in flight until `release()`), or
   * throws {@link IntrospectionUnavailableError} while the circuit is open or
   * `maxInFlight` calls are open.
   */
  admit(): void;
  /** Ends a call that `admit()` let through. */
  release(): void;
  /** Refuses every call for this long (ZITADEL's `Retry-After`). */
  openFor(seconds: number): void;
  /** A call succeeded: the first one after an opening closes the circuit (an event). */
  succeeded(): void;
  /** The circuit now, for `health()`. */
  circuit(): { open: boolean; secondsLeft: number };
}

/**
 * Creates the gate.
 *
 * @example
 * ```ts
 * const gate = createBackPressure({ maxInFlight: 100, now: Date.now });
 * gate.admit();
 * try { await callZitadel(); } finally { gate.release(); }
 * ```
 */
export function createBackPressure(options: {
  maxInFlight: number;
  now: () => number;
}): BackPressure {
  const { maxInFlight, now } = options;
  let inFlight = 0;
  let openUntil = 0;
  // Opened since the last success: the next success publishes `closed`.
  let opened = false;
  return {
    admit() {
      const waitMs = openUntil - now();
      if (waitMs > 0) {
        const error = new IntrospectionUnavailableError(
          'ZITADEL asked us to back off (circuit open)',
          { retryAfterSeconds: Math.ceil(waitMs / 1000) },
        );
        throw withReason(error, 'circuit_open');
      }
      if (inFlight >= maxInFlight) {
        const error = new IntrospectionUnavailableError(
          `too many introspections in flight (maxInFlight ${maxInFlight})`,
        );
        throw withReason(error, 'shed');
      }
      inFlight++;
    },
    release() {
      inFlight--;
    },
    openFor(seconds) {
      openUntil = now() + seconds * 1000;
      opened = true;
      publishCircuit({ state: 'open', seconds, cause: 'retry-after' });
    },
    succeeded() {
      if (!opened) return;
      opened = false;
      publishCircuit({ state: 'closed', cause: 'retry-after' });
    },
    circuit() {
      const waitMs = openUntil - now();
      return { open: waitMs > 0, secondsLeft: waitMs > 0 ? Math.ceil(waitMs / 1000) : 0 };
    },
  };
}
