/**
 * One HTTP attempt to ZITADEL on the `http` tracing channel: `start` and
 * `end` around the synchronous part (inside `start.runStores`, so an APM
 * agent's bound store follows the call), `error` on a failure, `asyncStart`
 * and `asyncEnd` when it settled. The caller reports the status it saw;
 * what the attempt resolved to (claims, metadata, a token) is never put on
 * the context.
 */
import { httpChannel, type HttpCallContext, type HttpCallResult } from './channels';

/**
 * Reports what the response said; a no-op when nobody listens.
 *
 * @example
 * ```ts
 * report({ status: response.status });
 * ```
 */
export type ReportHttpResult = (result: HttpCallResult) => void;

const IGNORE: ReportHttpResult = () => {};

/**
 * Runs `run` as one traced attempt. With no subscriber it is just `run(noop)`.
 * `failureOf` turns a resolved value that is a failure (an outcome object
 * instead of a rejection) into the error subscribers see.
 *
 * Exported for every wire to ZITADEL: introspection, discovery, the token
 * endpoint, and the JWKS fetch of local JWT verification (`kind: 'jwks'`).
 *
 * @example
 * ```ts
 * const keys = await traceHttp({ kind: 'jwks', endpoint: jwksUri, attempt: 1 }, async (report) => {
 *   const response = await fetch(jwksUri);
 *   report({ status: response.status });
 *   if (!response.ok) throw new Error(`HTTP ${response.status}`);
 *   return response.json();
 * });
 * ```
 */
export function traceHttp<T>(
  attempt: Pick<HttpCallContext, 'kind' | 'endpoint' | 'attempt'>,
  run: (report: ReportHttpResult) => Promise<T>,
  failureOf?: (value: T) => unknown,
): Promise<T> {
  if (!httpChannel.hasSubscribers) return run(IGNORE);
  const context: HttpCallContext = {
    kind: attempt.kind,
    endpoint: attempt.endpoint,
    attempt: attempt.attempt,
  };
  const report: ReportHttpResult = (result) => {
    context.result = result.active === undefined ? { status: result.status } : { ...result };
  };
  const { start, end, asyncStart, asyncEnd, error } = httpChannel;
  const settle = () => {
    asyncStart.publish(context);
    asyncEnd.publish(context);
  };
  const fail = (failure: unknown) => {
    context.error = failure;
    error.publish(context);
  };
  return start.runStores(context, () => {
    let promise: Promise<T>;
    try {
      promise = run(report);
    } catch (failure) {
      fail(failure);
      throw failure;
    } finally {
      end.publish(context);
    }
    return promise.then(
      (value) => {
        const failure = failureOf?.(value);
        if (failure !== undefined) fail(failure);
        settle();
        return value;
      },
      (failure: unknown) => {
        fail(failure);
        settle();
        throw failure;
      },
    );
  });
}
