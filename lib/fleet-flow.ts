/**
 * How the introspector gets its fleet policies' inputs: the {@link FleetLink}
 * of the coordinating store (fleet-core's, asked lazily: there is none until
 * the credential is loaded, and none without a coordinating store) and the
 * telemetry circuit channel, told of every circuit change.
 *
 * One internal, symbol-keyed option exists (not public API): a
 * per-introspector circuit listener (the telemetry channel is one per process).
 */
import type { BackPressureOptions, CircuitChange } from './back-pressure';
import type { FleetLink } from './cache/fleet-link';
import type { ResolvedOptions } from './options';
import { publishCircuit, type CircuitEvent } from './telemetry/channels';

/**
 * Internal option: `{ [CIRCUIT_LISTENER]: fn }` is told of this introspector's
 * circuit changes (besides the process-wide telemetry channel).
 *
 * @example
 * ```ts
 * createIntrospector({ issuer, key, [CIRCUIT_LISTENER]: (c) => changes.push(c) } as IntrospectorOptions);
 * ```
 */
export const CIRCUIT_LISTENER: unique symbol = Symbol('circuitListener');

/** The internal options as the introspector may receive them. */
interface FleetFlowOptions {
  [CIRCUIT_LISTENER]?: (change: CircuitChange) => void;
}

/**
 * The back-pressure options of an introspector (without its clock).
 * `storeLink` is the coordinating store's link (`fleet.link`).
 *
 * @example
 * ```ts
 * const gate = createBackPressure({ ...backPressureOptions(config, options, fleet.link), now });
 * ```
 */
export function backPressureOptions(
  config: ResolvedOptions,
  options: object,
  storeLink: () => FleetLink | undefined,
): Omit<BackPressureOptions, 'now'> {
  const internal = options as FleetFlowOptions;
  const listener = internal[CIRCUIT_LISTENER];
  const toTelemetry = circuitPublisher();
  return {
    maxInFlight: config.maxInFlight,
    maxIntrospectionsPerSecond: config.maxIntrospectionsPerSecond,
    link: storeLink,
    // One call with its retries and their pauses, plus a second of slack: a
    // dead prober's lock expires, a live one's does not.
    probeLockMs: config.timeoutMs * (config.retries + 1) + 200 * config.retries + 1000,
    onCircuitChange(change) {
      toTelemetry(change);
      listener?.(change);
    },
  };
}

/**
 * Maps circuit changes to the telemetry channel's events: `closed` carries
 * the cause of the opening it ends.
 *
 * @example
 * ```ts
 * const publish = circuitPublisher();
 * publish({ state: 'open', seconds: 4, cause: 'backoff' });
 * ```
 */
export function circuitPublisher(): (change: CircuitChange) => void {
  let cause: CircuitEvent['cause'] = 'retry-after';
  return (change) => {
    if (change.state === 'open') {
      cause = change.cause;
      publishCircuit({ state: 'open', seconds: change.seconds, cause });
    } else {
      publishCircuit({ state: 'closed', cause });
    }
  };
}
