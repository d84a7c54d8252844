/**
 * A bound on how long a dependency may take (a stalled Redis costs at most this).
 *
 * A timer that fires late because the event loop was busy (a loaded host, a
 * long synchronous task) would otherwise beat a reply already waiting in the
 * socket: Node runs due timers before it polls I/O. So an expired deadline
 * gives I/O one more turn ({@link afterPendingIo}) before it rejects; a
 * stalled Redis still costs `ms` plus one loop turn.
 */

/**
 * The rejection of an expired {@link deadline}, told apart from the
 * dependency's own errors (whose message a log line prefixes with the name).
 *
 * @example
 * ```ts
 * deadline(call, 50).catch((error) => error instanceof DeadlineError);
 * ```
 */
export class DeadlineError extends Error {}

/** setTimeout's largest delay; anything longer fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * `promise`, or a rejection once `ms` have passed (0 = no deadline; a longer
 * wait than a timer can hold waits that long, ~24.8 days). The late
 * settlement of `promise` is always handled.
 *
 * @example
 * ```ts
 * await deadline(redis.get(key), 50);
 * ```
 */
export function deadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (!(ms > 0)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => afterPendingIo(() => reject(new DeadlineError(`timed out after ${ms} ms`))),
      Math.min(ms, MAX_TIMER_MS),
    );
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Runs `then` after the event loop's next I/O poll: replies that arrived
 * while the loop was blocked settle first (setImmediate's check phase comes
 * after the poll phase).
 *
 * @example
 * ```ts
 * setTimeout(() => afterPendingIo(() => reject(new Error('timed out'))), ms);
 * ```
 */
export function afterPendingIo(then: () => void): void {
  // Not unref'd: an unref'd immediate does not stop the poll phase from
  // blocking, so it would wait for the next unrelated wake-up. A ref'd one
  // holds the process for one loop turn at most.
  setImmediate(then);
}
