/**
 * What stands between a cache miss and ZITADEL: the circuit that a 429/503
 * with `Retry-After` opens, and the `maxInFlight` bound on open calls. Both
 * refuse with a 503 at once, so a flood of unknown tokens or a struggling
 * ZITADEL costs neither side more than it can take.
 */
import { IntrospectionUnavailableError } from './errors';

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
  return {
    admit() {
      const waitMs = openUntil - now();
      if (waitMs > 0) {
        throw new IntrospectionUnavailableError('ZITADEL asked us to back off (circuit open)', {
          retryAfterSeconds: Math.ceil(waitMs / 1000),
        });
      }
      if (inFlight >= maxInFlight) {
        throw new IntrospectionUnavailableError(
          `too many introspections in flight (maxInFlight ${maxInFlight})`,
        );
      }
      inFlight++;
    },
    release() {
      inFlight--;
    },
    openFor(seconds) {
      openUntil = now() + seconds * 1000;
    },
  };
}
