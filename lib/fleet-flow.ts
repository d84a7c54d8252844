/**
 * How the introspector gets its fleet policies' inputs: the {@link FleetLink}
 * of a coordinating store (none: this process alone) and a listener for
 * circuit changes (telemetry). Both reach it through internal, symbol-keyed
 * options until the coordinating store and the telemetry channels provide
 * them; neither is public API.
 */
import type { BackPressureOptions, CircuitChange } from './back-pressure';
import type { FleetLink } from './cache/fleet-link';
import type { ResolvedOptions } from './options';

/**
 * Internal option: `{ [FLEET_LINK]: link }` makes the circuit, back-off,
 * probe and budget fleet-wide over `link`.
 *
 * @example
 * ```ts
 * createIntrospector({ issuer, key, [FLEET_LINK]: link } as IntrospectorOptions);
 * ```
 */
export const FLEET_LINK: unique symbol = Symbol('fleetLink');

/**
 * Internal option: `{ [CIRCUIT_LISTENER]: fn }` is told of every circuit change.
 *
 * @example
 * ```ts
 * createIntrospector({ issuer, key, [CIRCUIT_LISTENER]: (c) => channel.publish(c) } as IntrospectorOptions);
 * ```
 */
export const CIRCUIT_LISTENER: unique symbol = Symbol('circuitListener');

/** The internal options as the introspector may receive them. */
interface FleetFlowOptions {
  [FLEET_LINK]?: FleetLink;
  [CIRCUIT_LISTENER]?: (change: CircuitChange) => void;
}

/**
 * The back-pressure options of an introspector (without its clock).
 *
 * @example
 * ```ts
 * const gate = createBackPressure({ ...backPressureOptions(config, options), now });
 * ```
 */
export function backPressureOptions(
  config: ResolvedOptions,
  options: object,
): Omit<BackPressureOptions, 'now'> {
  const internal = options as FleetFlowOptions;
  return {
    maxInFlight: config.maxInFlight,
    maxIntrospectionsPerSecond: config.maxIntrospectionsPerSecond,
    link: internal[FLEET_LINK],
    // One call with its retries and their pauses, plus a second of slack: a
    // dead prober's lock expires, a live one's does not.
    probeLockMs: config.timeoutMs * (config.retries + 1) + 200 * config.retries + 1000,
    onCircuitChange: internal[CIRCUIT_LISTENER],
  };
}
