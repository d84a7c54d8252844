/**
 * A value loaded once and kept (discovery metadata, a key file): concurrent
 * callers share the load in flight, and a failure is answered again at once
 * for `retryIntervalMs` — so a flood of requests cannot hammer ZITADEL or
 * the disk — then the next call tries again, so a fix heals without a restart.
 */

/**
 * @example
 * ```ts
 * const metadata = loadOnce(() => fetchMetadata(options), { retryIntervalMs: 5000, now: Date.now });
 * await metadata.get();
 * ```
 */
export interface LoadOnce<T> {
  get(): Promise<T>;
  /** The loaded value, synchronously; `undefined` until a load succeeded. */
  value(): T | undefined;
}

/**
 * Wraps `load` as described above.
 *
 * @example
 * ```ts
 * const key = loadOnce(() => loadKeyFile(path, 'application'), { retryIntervalMs: 5000, now: Date.now });
 * const { clientId } = await key.get();
 * ```
 */
export function loadOnce<T>(
  load: () => Promise<T>,
  options: { retryIntervalMs: number; now: () => number },
): LoadOnce<T> {
  let loaded: { value: T } | undefined;
  let inFlight: Promise<T> | undefined;
  let lastFailure: { error: unknown; at: number } | undefined;

  return {
    value: () => loaded?.value,
    get() {
      if (loaded) return Promise.resolve(loaded.value);
      if (inFlight) return inFlight;
      if (lastFailure && options.now() - lastFailure.at < options.retryIntervalMs) {
        return Promise.reject(lastFailure.error);
      }
      inFlight = load().then(
        (value) => {
          loaded = { value };
          inFlight = undefined;
          return value;
        },
        (error: unknown) => {
          lastFailure = { error, at: options.now() };
          inFlight = undefined;
          throw error;
        },
      );
      return inFlight;
    },
  };
}
