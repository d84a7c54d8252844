/**
 * The reason word on a log line: a line about a failure a request is
 * refused for ends in `(reason=<code>)`, the same code its decision event
 * carries (DESIGN.md "Telemetry"), so an operator can go from a dashboard's
 * refusals by reason to the lines that explain them with one search.
 */
import type { DecisionSource } from './channels';
import { reasonOf } from './decision';

/**
 * `message` with the reason code of `error` appended, as the decision event
 * of the refused request names it.
 *
 * @example
 * ```ts
 * logger.warn(withReasonWord(`introspection failed: ${error.message}`, error));
 * // 'introspection failed: introspection endpoint answered HTTP 500 (reason=unavailable)'
 * ```
 */
export function withReasonWord(message: string, error: unknown): string {
  return `${message} (reason=${reasonOf(error)})`;
}

/**
 * `message` for a request that was granted anyway (a stale answer during an
 * outage): its event's `source`, and the reason it would have been refused
 * for as `cause` (not `reason`, which only refusals carry).
 *
 * @example
 * ```ts
 * logger.warn(servedWord('serving a stale introspection result: timed out', 'stale', error));
 * // '… (source=stale, cause=unavailable)'
 * ```
 */
export function servedWord(message: string, source: DecisionSource, error: unknown): string {
  return `${message} (source=${source}, cause=${reasonOf(error)})`;
}
