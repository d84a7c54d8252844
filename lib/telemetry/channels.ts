/**
 * The package's `diagnostics_channel` channels and the shapes of what they
 * carry (DESIGN.md "Telemetry"). Node creates a channel once per name, so a
 * subscriber that calls `diagnostics_channel.subscribe(name, …)` before or
 * after this module loads gets the same channel. Publishers check
 * `hasSubscribers` first: with nobody listening no event object is built.
 *
 * No event carries a token, a claim value other than the subject, a key or
 * a secret.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';

/**
 * Name of the channel of authorization decisions.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(DECISION_CHANNEL, (event) => count(event as DecisionEvent));
 * ```
 */
export const DECISION_CHANNEL = 'express-zitadel-introspection:decision';

/**
 * Name of the `TracingChannel` around each HTTP attempt to ZITADEL
 * (`tracing:express-zitadel-introspection:http:start`, `:end`, `:asyncStart`,
 * `:asyncEnd`, `:error`).
 *
 * @example
 * ```ts
 * import { tracingChannel } from 'node:diagnostics_channel';
 * tracingChannel(HTTP_CHANNEL).subscribe({ asyncEnd: (ctx) => record(ctx as HttpCallContext) });
 * ```
 */
export const HTTP_CHANNEL = 'express-zitadel-introspection:http';

/**
 * Name of the channel of circuit changes.
 *
 * @example
 * ```ts
 * subscribe(CIRCUIT_CHANNEL, (event) => alert(event as CircuitEvent));
 * ```
 */
export const CIRCUIT_CHANNEL = 'express-zitadel-introspection:circuit';

/**
 * Stable code of a refusal: the `reason` of a decision event and the word
 * the log lines use.
 *
 * @example
 * ```ts
 * const reason: ReasonCode = 'missing_role';
 * ```
 */
export type ReasonCode =
  | 'no_token'
  | 'malformed'
  | 'inactive'
  | 'expired'
  | 'audience'
  | 'jwt_invalid'
  | 'missing_role'
  | 'missing_scope'
  | 'claim_check'
  | 'unavailable'
  | 'circuit_open'
  | 'shed'
  | 'client_auth_rejected'
  | 'config';

/**
 * Where an answer came from; `none` when there was no answer (no token, an
 * outage, a malformed request).
 *
 * @example
 * ```ts
 * const source: DecisionSource = 'memory';
 * ```
 */
export type DecisionSource =
  'memory' | 'store' | 'introspection' | 'peer' | 'stale' | 'jwt' | 'none';

/**
 * One decision: published once per request `zitadelAuth()` handles (stage
 * `authenticate`) and once more when a guard refuses it (stage `authorize`).
 *
 * @example
 * ```ts
 * const event: DecisionEvent = {
 *   stage: 'authenticate', outcome: 'refused', status: 401, reason: 'expired',
 *   source: 'memory', durationMs: 0.04,
 * };
 * ```
 */
export interface DecisionEvent {
  stage: 'authenticate' | 'authorize';
  outcome: 'granted' | 'refused' | 'anonymous';
  /** The HTTP status this decision answers with (200 for a grant or an anonymous pass). */
  status: number;
  /** Set on refusals only. */
  reason?: ReasonCode;
  source: DecisionSource;
  /** The caller's `sub`, when a token was accepted. */
  subject?: string;
  /** Milliseconds since the request entered `zitadelAuth()` (0 if a subscriber came in between). */
  durationMs: number;
}

/**
 * The context of one HTTP attempt on the `http` tracing channel. `result`
 * is set once a response came (also for an HTTP error answer), `error` when
 * the attempt failed (no response, an error status, a malformed answer).
 *
 * @example
 * ```ts
 * tracingChannel(HTTP_CHANNEL).subscribe({
 *   asyncEnd(ctx) {
 *     const { kind, result, error } = ctx as HttpCallContext;
 *     log(kind, result?.status, error ? 'failed' : 'ok');
 *   },
 * });
 * ```
 */
export interface HttpCallContext {
  kind: 'introspection' | 'discovery' | 'jwks' | 'token';
  /** The URL called (an endpoint from discovery or the options: no credentials in it). */
  endpoint: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  result?: HttpCallResult;
  error?: unknown;
}

/**
 * What an HTTP attempt answered: the status, and `active` for an introspection.
 *
 * @example
 * ```ts
 * const result: HttpCallResult = { status: 200, active: true };
 * ```
 */
export interface HttpCallResult {
  status: number;
  active?: boolean;
}

/**
 * A change of the circuit in front of ZITADEL: `open` for `seconds`, or
 * `closed` when the first call after an opening succeeded.
 *
 * @example
 * ```ts
 * const event: CircuitEvent = { state: 'open', seconds: 30, cause: 'retry-after' };
 * ```
 */
export interface CircuitEvent {
  state: 'open' | 'closed';
  seconds?: number;
  cause: 'retry-after' | 'backoff' | 'peer';
}

/**
 * The decision channel.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) decisionChannel.publish(event);
 * ```
 */
export const decisionChannel = channel(DECISION_CHANNEL);

/**
 * The HTTP tracing channel; {@link traceHttp} publishes on it.
 *
 * @example
 * ```ts
 * httpChannel.hasSubscribers; // false until someone subscribes
 * ```
 */
export const httpChannel = tracingChannel<unknown, HttpCallContext>(HTTP_CHANNEL);

/**
 * The circuit channel.
 *
 * @example
 * ```ts
 * circuitChannel.subscribe((event) => alert(event as CircuitEvent));
 * ```
 */
export const circuitChannel = channel(CIRCUIT_CHANNEL);

/**
 * Publishes a circuit change, if anyone listens.
 *
 * @example
 * ```ts
 * publishCircuit({ state: 'open', seconds: retryAfterSeconds, cause: 'retry-after' });
 * ```
 */
export function publishCircuit(event: CircuitEvent): void {
  if (circuitChannel.hasSubscribers) circuitChannel.publish(event);
}
