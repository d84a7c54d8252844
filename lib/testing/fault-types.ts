/**
 * Public types of the local ZITADEL's faults and call counters.
 */

/**
 * The endpoints of the local ZITADEL that can fail on purpose and whose calls are counted.
 *
 * @example
 * ```ts
 * const endpoint: LocalZitadelEndpoint = 'keys';
 * ```
 */
export type LocalZitadelEndpoint = 'introspection' | 'token' | 'discovery' | 'keys';

/**
 * What an endpoint does instead of answering: an answer of your choice
 * (`body` an object is sent as JSON, a string as is), `'hang'` (never
 * answers), `'reset'` (drops the connection) or `'garbage'` (200 with a body
 * that is not JSON).
 *
 * @example
 * ```ts
 * const rateLimited: Fault = { status: 429, body: 'Too Many Requests' };
 * ```
 */
export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string | object }
  | 'hang'
  | 'reset'
  | 'garbage';

/**
 * Where a fault applies and how often.
 *
 * @example
 * ```ts
 * await zitadel.injectFault('reset', { endpoint: 'token', times: 1 });
 * ```
 */
export interface FaultOptions {
  /** Default `'introspection'`. */
  endpoint?: LocalZitadelEndpoint;
  /** How many calls get the fault (default: every call until `clearFaults()`). */
  times?: number;
}

/**
 * Calls each endpoint received (faulted ones included) since start or the last `resetCalls()`.
 *
 * @example
 * ```ts
 * expect(await zitadel.calls()).toEqual({ introspection: 1, token: 0, discovery: 1, keys: 0 });
 * ```
 */
export type CallCounts = Record<LocalZitadelEndpoint, number>;
