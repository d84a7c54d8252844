/**
 * One call per key in flight: concurrent misses for one token share one
 * introspection instead of sending ZITADEL a burst of identical requests.
 */

/**
 * Shares one `work()` call among concurrent callers of the same key.
 *
 * @example
 * ```ts
 * const flights = createSingleFlight<TokenInfo>();
 * const { promise, joined } = flights.run(key, () => introspectOverHttp(token));
 * if (joined) stats.coalesced++;
 * const info = await promise;
 * ```
 */
export interface SingleFlight<T> {
  /**
   * Starts `work()` unless a call for `key` is already in flight, in which
   * case the caller joins it (`joined: true`) and gets the same result or the
   * same rejection. The key is released as soon as the call settles, so a
   * failure is never remembered: the next `run()` calls `work()` again.
   */
  run(key: string, work: () => Promise<T>): { promise: Promise<T>; joined: boolean };
  /** Number of keys with a call in flight. */
  readonly size: number;
}

/**
 * Creates an empty {@link SingleFlight}.
 *
 * @example
 * ```ts
 * const flights = createSingleFlight<string>();
 * const a = flights.run('k', () => fetchValue());
 * const b = flights.run('k', () => fetchValue()); // b.joined === true, one fetchValue() call
 * ```
 */
export function createSingleFlight<T>(): SingleFlight<T> {
  const inFlight = new Map<string, Promise<T>>();

  return {
    run(key, work) {
      const current = inFlight.get(key);
      if (current) return { promise: current, joined: true };

      const promise = invoke(work);
      inFlight.set(key, promise);
      // The entry is only ever replaced after this release, so it is still ours here.
      const release = (): void => void inFlight.delete(key);
      // Handles the rejection on this side chain only; callers still see it.
      promise.then(release, release);
      return { promise, joined: false };
    },
    get size() {
      return inFlight.size;
    },
  };
}

/** Turns a synchronous throw of `work` into a rejection shared like any other. */
function invoke<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}
