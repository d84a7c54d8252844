/**
 * Refresh-ahead (`cache.refreshAheadSeconds`): a hit near the end of its
 * entry's life is answered at once and starts one background refresh, so a
 * token in steady use never makes a request wait for ZITADEL after its first.
 * This file holds the two halves the cache and the core share: when an entry
 * is due (computed once, when the entry is made, so the hit path compares one
 * number), and the one-refresh-per-key runner that `close()` cancels.
 */

/**
 * When a hit on an entry should start a refresh: `refreshAheadSeconds` before
 * the entry's end, at most half its TTL; never (undefined) when refresh-ahead
 * is off or the entry ends with the token itself (a refresh would not extend it).
 *
 * @example
 * ```ts
 * refreshAtOf(0, 300_000, 3_600_000, { refreshAheadSeconds: 30, clockToleranceSeconds: 5 }); // 270_000
 * ```
 */
export function refreshAtOf(
  storedAt: number,
  expiresAt: number,
  tokenExpiresAt: number,
  rules: { refreshAheadSeconds?: number; clockToleranceSeconds: number },
): number | undefined {
  const aheadMs = (rules.refreshAheadSeconds ?? 0) * 1000;
  if (!(aheadMs > 0)) return undefined;
  // The entry was cut short by the token's exp: a new answer would end no later.
  if (expiresAt >= tokenExpiresAt - rules.clockToleranceSeconds * 1000) return undefined;
  return expiresAt - Math.min(aheadMs, (expiresAt - storedAt) / 2);
}

/**
 * The runner of {@link createRefreshAhead}.
 *
 * @example
 * ```ts
 * if (hit.active && hit.refreshDue) refresher.start(key, token);
 * ```
 */
export interface RefreshAhead {
  /** Starts the refresh of `key` unless one is already running (or the runner is closed). */
  start(key: string, token: string): void;
  /** Refreshes running now. */
  running(): number;
  /** No new refreshes; resolves when the running ones have settled. */
  close(): Promise<void>;
}

/**
 * Creates the runner. `refresh` does the work (read the store, else
 * introspect under admission, then cache); its failure changes nothing and
 * is only reported to `onError`.
 *
 * @example
 * ```ts
 * const refresher = createRefreshAhead({ refresh: (key, token) => refreshEntry(key, token), onError });
 * ```
 */
export function createRefreshAhead(options: {
  refresh: (key: string, token: string) => Promise<void>;
  onError: (error: unknown) => void;
}): RefreshAhead {
  const inFlight = new Map<string, Promise<void>>();
  let closed = false;

  return {
    start(key, token) {
      if (closed || inFlight.has(key)) return;
      const run = options
        .refresh(key, token)
        .catch(options.onError)
        .finally(() => inFlight.delete(key));
      inFlight.set(key, run);
    },
    running: () => inFlight.size,
    async close() {
      closed = true;
      await Promise.all(inFlight.values());
    },
  };
}
