/**
 * Revalidation bounds the revocation lag of local verification: each locally
 * accepted `jti` is introspected in the background `revalidateSeconds` after
 * its first local acceptance and then every `revalidateSeconds`. Due times
 * live in a {@link SharedMemory} (fleet-wide with a coordinating store),
 * outside the cache entry, so an entry's expiry does not restart the clock.
 */
import type { SharedMemory } from '../cache/fleet-hooks';
import type { Logger } from '../logger';
import { oldestFirst } from './oldest-first';

/**
 * Options of {@link createRevalidation}.
 *
 * @example
 * ```ts
 * const options: RevalidationOptions = {
 *   everyMs: 300_000, memory, now: Date.now, maxTracked: 10_000,
 *   introspect: (key, token) => introspector.callZitadel(key, token),
 *   onInactive: (jti, expMs) => markIntrospectOnly(jti, expMs),
 * };
 * ```
 */
export interface RevalidationOptions {
  /** `revalidateSeconds` in ms; 0 = never. */
  everyMs: number;
  memory: SharedMemory;
  now: () => number;
  /** Tokens tracked at once in this process; the oldest accepted goes first. */
  maxTracked: number;
  /**
   * The introspector's normal call path (single-flight, budget, circuit; an
   * answer replaces the cache entry). Rejects on an outage.
   */
  introspect(key: string, token: string): Promise<{ active: boolean }>;
  /** ZITADEL answered `active:false`: that `jti` is introspected from now on, until `expMs`. */
  onInactive(jti: string, expMs: number): Promise<void>;
  logger?: Logger;
}

/**
 * A locally accepted token, as revalidation needs it.
 *
 * @example
 * ```ts
 * revalidation.accepted({ jti: payload.jti, key, token, expMs: payload.exp * 1000 });
 * ```
 */
export interface AcceptedToken {
  jti: string;
  /** The cache key (a hash of the token). */
  key: string;
  token: string;
  expMs: number;
}

/**
 * See {@link createRevalidation}.
 *
 * @example
 * ```ts
 * revalidation.accepted(token);
 * revalidation.count(); // revalidations started here
 * ```
 */
export interface Revalidation {
  /** Called on each local acceptance; starts the clock of a new `jti`. */
  accepted(token: AcceptedToken): void;
  /** Introspections this process started for revalidation. */
  count(): number;
  /** Runs the due revalidations now and waits for them (the sweep timer calls it). */
  sweep(): Promise<void>;
  /** Stops the sweep timer and forgets every token. */
  close(): void;
}

interface Tracked extends AcceptedToken {
  dueAt: number;
  running: boolean;
}

/**
 * Creates the revalidation schedule: one unref'd sweep timer while tokens are
 * tracked, a fleet-wide claim per due time so one replica makes the call.
 *
 * @example
 * ```ts
 * const revalidation = createRevalidation({ everyMs: 300_000, memory, now: Date.now, maxTracked: 10_000, introspect, onInactive });
 * revalidation.accepted({ jti, key, token, expMs });
 * ```
 */
export function createRevalidation(options: RevalidationOptions): Revalidation {
  const { everyMs, memory, now } = options;
  const tracked = new Map<string, Tracked>();
  const trimTracked = oldestFirst(tracked);
  // Fine enough for a 1 s interval, coarse enough to cost nothing at 300 s.
  const tickMs = Math.min(1000, Math.max(50, everyMs / 10));
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let closed = false;

  const dueName = (jti: string) => `due:${jti}`;

  function arm() {
    if (timer || closed || tracked.size === 0) return;
    timer = setInterval(() => void sweep(), tickMs);
    timer.unref();
  }

  async function track(token: AcceptedToken) {
    const at = now();
    const shared = Number(await memory.get(dueName(token.jti)));
    const dueAt = Number.isFinite(shared) && shared > 0 ? shared : at + everyMs;
    if (!(shared > 0)) await memory.set(dueName(token.jti), String(dueAt), token.expMs - at);
    if (closed || tracked.has(token.jti)) return;
    tracked.set(token.jti, { ...token, dueAt, running: false });
    trimTracked(options.maxTracked);
    arm();
  }

  async function revalidate(entry: Tracked) {
    entry.running = true;
    try {
      // One replica per due time makes the call; the others move on.
      if (await memory.claim(`rev:${entry.jti}:${entry.dueAt}`, Math.max(everyMs, 1000))) {
        started++;
        const answer = await options.introspect(entry.key, entry.token);
        if (!answer.active) {
          tracked.delete(entry.jti);
          await options.onInactive(entry.jti, entry.expMs);
          return;
        }
      }
    } catch (error) {
      // An outage leaves the local decision standing; the next due time retries.
      options.logger?.debug(`revalidation deferred: ${(error as Error).message}`);
    } finally {
      entry.running = false;
    }
    // On the grid of the first due time: every replica derives the same next
    // due time, so the claim above names one call per round fleet-wide.
    const at = now();
    do entry.dueAt += everyMs;
    while (entry.dueAt <= at);
    await memory.set(dueName(entry.jti), String(entry.dueAt), entry.expMs - at);
  }

  async function sweep() {
    const at = now();
    const due: Promise<void>[] = [];
    for (const entry of tracked.values()) {
      if (entry.expMs <= at) tracked.delete(entry.jti);
      else if (entry.dueAt <= at && !entry.running) due.push(revalidate(entry));
    }
    if (tracked.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    await Promise.all(due);
  }

  return {
    accepted(token) {
      if (everyMs <= 0 || closed) return;
      const known = tracked.get(token.jti);
      if (known) {
        // Same jti, perhaps another spelling of it (base64url's spare bits): keep the clock.
        known.key = token.key;
        known.token = token.token;
        return;
      }
      void track(token);
    },
    count: () => started,
    sweep,
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      tracked.clear();
    },
  };
}
