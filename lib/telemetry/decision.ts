/**
 * Decision events: the stable reason code of a refusal, the source of an
 * answer, and the publishers the middleware and the guards call — always
 * behind `decisionChannel.hasSubscribers`, so a request with nobody
 * listening builds no event and reads no clock. Each event is one object
 * literal of a fixed shape (no property added afterwards, no closure or
 * array per publish), and a decision reads the clock once more than its
 * entry did: a subscribed hit costs two clock reads and one allocation.
 */
import { performance } from 'node:perf_hooks';
import {
  AuthError,
  InvalidRequestError,
  InvalidTokenError,
  InsufficientScopeError,
  IntrospectionUnavailableError,
  UnauthorizedError,
} from '../errors';
import {
  decisionChannel,
  type DecisionEvent,
  type DecisionSource,
  type ReasonCode,
} from './channels';

const REASON: unique symbol = Symbol('express-zitadel-introspection.reason');
const SOURCE: unique symbol = Symbol('express-zitadel-introspection.source');

/**
 * Marks an error where it is thrown with the reason a decision event names
 * (e.g. `shed` vs `circuit_open` vs `unavailable`: one class, three causes).
 * Non-enumerable, so logs and `util.inspect` stay as they were.
 *
 * @example
 * ```ts
 * throw withReason(new IntrospectionUnavailableError('too many in flight'), 'shed');
 * ```
 */
export function withReason<E extends Error>(error: E, reason: ReasonCode): E {
  Object.defineProperty(error, REASON, { value: reason, configurable: true });
  return error;
}

/**
 * The reason code of a refusal error: its tag from {@link withReason}, else
 * what its class says.
 *
 * @example
 * ```ts
 * reasonOf(new UnauthorizedError()); // 'no_token'
 * ```
 */
export function reasonOf(error: unknown): ReasonCode {
  const tagged = (error as { [REASON]?: ReasonCode } | undefined)?.[REASON];
  if (tagged) return tagged;
  if (error instanceof UnauthorizedError) return 'no_token';
  if (error instanceof InvalidRequestError) return 'malformed';
  if (error instanceof InvalidTokenError) return 'inactive';
  if (error instanceof IntrospectionUnavailableError) return 'unavailable';
  if (error instanceof InsufficientScopeError) return 'missing_scope';
  // ConfigError and anything else (a getToken that throws): our side is at fault.
  return 'config';
}

/**
 * Marks an answer with where it came from (anything but the memory tier,
 * which the hot path leaves unmarked). The mark is a non-enumerable symbol:
 * invisible to `JSON.stringify`, `Object.keys`, `toEqual` and the callers of
 * `introspect()`.
 *
 * @example
 * ```ts
 * return withSource(answer(decision, token), 'introspection');
 * ```
 */
export function withSource<T extends object>(info: T, source: DecisionSource): T {
  // Non-enumerable: deep equality and spreads of the answer see no difference.
  Object.defineProperty(info, SOURCE, { value: source, configurable: true });
  return info;
}

/**
 * Where an answer came from: its mark, else the memory tier.
 *
 * @example
 * ```ts
 * sourceOf(await introspector.introspect(token)); // 'memory' on the second call
 * ```
 */
export function sourceOf(info: object): DecisionSource {
  return (info as { [SOURCE]?: DecisionSource })[SOURCE] ?? 'memory';
}

/**
 * What the middleware keeps per request for the events: when it started
 * (only taken while someone listens) and where the grant came from.
 *
 * @example
 * ```ts
 * const timing: DecisionTiming = { startedAt: performance.now() };
 * ```
 */
export interface DecisionTiming {
  startedAt?: number;
  source?: DecisionSource;
}

/**
 * The start time for {@link DecisionTiming}: read only while someone listens.
 *
 * @example
 * ```ts
 * const startedAt = decisionStart(); // undefined with no subscriber
 * ```
 */
export function decisionStart(): number | undefined {
  return decisionChannel.hasSubscribers ? performance.now() : undefined;
}

/**
 * Publishes a granted `authenticate` decision, with the source the
 * middleware put on `timing`. Call only when `decisionChannel.hasSubscribers`.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) publishGrant(state, auth.subject);
 * ```
 */
export function publishGrant(timing: DecisionTiming, subject: string): void {
  const event: DecisionEvent = {
    stage: 'authenticate',
    outcome: 'granted',
    status: 200,
    source: timing.source ?? 'memory',
    subject,
    durationMs: elapsed(timing),
  };
  decisionChannel.publish(event);
}

/**
 * Publishes an anonymous pass (`authRequired: false`, no credentials). Call
 * only when `decisionChannel.hasSubscribers`.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) publishAnonymous(state);
 * ```
 */
export function publishAnonymous(timing: DecisionTiming): void {
  const event: DecisionEvent = {
    stage: 'authenticate',
    outcome: 'anonymous',
    status: 200,
    source: 'none',
    durationMs: elapsed(timing),
  };
  decisionChannel.publish(event);
}

/**
 * Publishes a refusal: `authenticate` by the middleware, `authorize` by a
 * guard. `reason` defaults to {@link reasonOf}(error). Call only when
 * `decisionChannel.hasSubscribers`.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) publishRefusal('authorize', state, error, 'missing_role', auth.subject);
 * ```
 */
export function publishRefusal(
  stage: DecisionEvent['stage'],
  timing: DecisionTiming | undefined,
  error: unknown,
  reason: ReasonCode = reasonOf(error),
  subject?: string,
): void {
  const status = statusOf(error);
  const source = timing?.source ?? 'none';
  const durationMs = timing ? elapsed(timing) : 0;
  // Two literals rather than one with `subject` added later: each keeps one shape.
  const event: DecisionEvent =
    subject === undefined
      ? { stage, outcome: 'refused', status, reason, source, durationMs }
      : { stage, outcome: 'refused', status, reason, source, subject, durationMs };
  decisionChannel.publish(event);
}

function elapsed(timing: DecisionTiming): number {
  return timing.startedAt === undefined ? 0 : performance.now() - timing.startedAt;
}

function statusOf(error: unknown): number {
  if (error instanceof AuthError) return error.status;
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}
