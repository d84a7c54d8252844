/**
 * A bound on how long a dependency may take (a stalled Redis costs at most this).
 */

/**
 * `promise`, or a rejection once `ms` have passed (0 = no deadline). The
 * late settlement of `promise` is always handled.
 *
 * @example
 * ```ts
 * await deadline(redis.get(key), 50);
 * ```
 */
export function deadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (!(ms > 0)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
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
