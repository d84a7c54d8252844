/**
 * One introspection per token per fleet: after admission, a replica listens
 * for the key's outcome, then tries the lock. The winner calls; a loser
 * reads the store once more, then waits — woken by the holder's outcome
 * message and polling the store and the lock's PTTL about every 100 ms, so
 * a lost message or a dead holder costs at most about the lock's lifetime.
 * The lock is an optimisation, never a correctness condition.
 */
import type { Coordinator, FleetLock } from './coordination';
import type { FleetMessage } from './fleet-link';

/** What the holder tells the fleet (never the answer itself). */
export type Outcome =
  { outcome: 'stored' } | { outcome: 'not-stored' } | { outcome: 'outage'; retryAfter: number };

/**
 * The result of {@link FleetFlight.claim}: `call` (this replica introspects,
 * then `finish`es), or what the peer's call left.
 *
 * @example
 * ```ts
 * const turn = await flight.claim(key);
 * if (turn.kind === 'call') { try { … } finally { await turn.finish({ outcome: 'stored' }); } }
 * ```
 */
export type Turn =
  | { kind: 'call'; startedAt: number; finish(outcome: Outcome): Promise<void> }
  | { kind: 'stored' }
  | { kind: 'outage'; retryAfter: number };

/**
 * The fleet lock protocol of one coordinator.
 *
 * @example
 * ```ts
 * const flight = createFleetFlight(coordinator, { waitMs: 12_000 });
 * ```
 */
export interface FleetFlight {
  /**
   * `refresh`: the store already holds an older value for `key` (refresh-ahead),
   * so a loser waits for the holder's outcome or the lock's end, not for a value.
   */
  claim(key: string, options?: { refresh?: boolean }): Promise<Turn>;
}

const POLL_MS = 100;
const MAX_LOCK_ATTEMPTS = 3;

/**
 * Creates the protocol; `waitMs` bounds a loser's wait for a live holder.
 *
 * @example
 * ```ts
 * const turn = await createFleetFlight(coordinator, { waitMs: 12_000 }).claim(key);
 * ```
 */
export function createFleetFlight(
  coordinator: Coordinator,
  options: { waitMs: number; now: () => number },
): FleetFlight {
  const waiters = new Map<string, Set<(outcome: Outcome) => void>>();
  coordinator.onMessage((message: FleetMessage) => {
    if (message.type !== 'outcome' || typeof message.key !== 'string') return;
    const outcome = toOutcome(message);
    if (outcome) for (const wake of waiters.get(message.key) ?? []) wake(outcome);
  });

  const listen = (key: string) => {
    let heard: Outcome | undefined;
    let wake: (() => void) | undefined;
    const onOutcome = (outcome: Outcome): void => {
      heard = outcome;
      wake?.();
    };
    const set = waiters.get(key) ?? new Set();
    set.add(onOutcome);
    waiters.set(key, set);
    return {
      heard: () => heard,
      /** Resolves after `ms` or as soon as an outcome arrives. */
      pause: (ms: number) =>
        new Promise<void>((resolve) => {
          if (heard) return resolve();
          const timer = setTimeout(resolve, ms);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
      stop: () => {
        set.delete(onOutcome);
        if (set.size === 0) waiters.delete(key);
      },
    };
  };

  /** Waits for the holder: 'free' when the lock is gone without an answer. */
  const waitForHolder = async (
    key: string,
    ear: ReturnType<typeof listen>,
    refresh: boolean,
  ): Promise<Turn | 'free' | 'alone'> => {
    const until = options.now() + options.waitMs;
    for (;;) {
      const heard = ear.heard();
      if (heard?.outcome === 'stored') return { kind: 'stored' };
      if (heard?.outcome === 'outage') return { kind: 'outage', retryAfter: heard.retryAfter };
      // The holder's write may have landed after its own deadline (a slow
      // store): one more read of the store before calling on our own.
      if (heard?.outcome === 'not-stored') return { kind: 'stored' };
      let state;
      try {
        state = await coordinator.poll(key);
      } catch {
        return 'alone'; // Redis unavailable: introspect on our own.
      }
      if (state.value !== undefined && !refresh) return { kind: 'stored' };
      // A refresh's holder is gone: its answer, if any, is in the store now.
      if (!(state.lockTtl > 0)) return refresh ? { kind: 'stored' } : 'free';
      if (options.now() >= until) return 'alone';
      await ear.pause(POLL_MS);
    }
  };

  return {
    async claim(key, claimOptions) {
      // Listening before the lock attempt: the holder's message cannot slip by.
      const ear = listen(key);
      try {
        for (let attempt = 1; ; attempt++) {
          const lock: FleetLock = await coordinator.lock(key);
          if (lock.won) return holderTurn(coordinator, key, lock);
          const next = await waitForHolder(key, ear, claimOptions?.refresh === true);
          if (next === 'alone' || (next === 'free' && attempt >= MAX_LOCK_ATTEMPTS)) {
            return { kind: 'call', startedAt: lock.startedAt, finish: async () => undefined };
          }
          if (next !== 'free') return next;
        }
      } finally {
        ear.stop();
      }
    },
  };
}

function holderTurn(coordinator: Coordinator, key: string, lock: FleetLock): Turn {
  return {
    kind: 'call',
    startedAt: lock.startedAt,
    async finish(outcome) {
      // Publish before releasing: a loser that sees the lock gone has the message already or soon.
      await coordinator.publish({ type: 'outcome', key, ...outcome });
      await lock.release();
    },
  };
}

function toOutcome(message: FleetMessage): Outcome | undefined {
  if (message.outcome === 'stored' || message.outcome === 'not-stored') {
    return { outcome: message.outcome };
  }
  if (message.outcome !== 'outage') return undefined;
  const seconds = Number(message.retryAfter);
  // Clamped: a message never opens more than a minute's refusal.
  const retryAfter = Number.isFinite(seconds) ? Math.min(60, Math.max(1, Math.round(seconds))) : 5;
  return { outcome: 'outage', retryAfter };
}

/**
 * Runs one miss through the fleet: a peer's stored answer (`peer()`), a
 * peer's outage (rejects with `outage(seconds)`), or this replica's own
 * `call(startedAt)`, whose outcome is then told to the waiting peers.
 *
 * @example
 * ```ts
 * const decision = await throughFleet(flight, key, {
 *   peer: () => cache.getShared(key),
 *   call: async (startedAt) => ({ value: await introspect(startedAt), stored: true }),
 *   outage: (seconds) => new IntrospectionUnavailableError('…', { retryAfterSeconds: seconds }),
 *   retryAfterOf: (error) => 5,
 * });
 * ```
 */
export async function throughFleet<T>(
  flight: FleetFlight | undefined,
  key: string,
  handlers: {
    peer(): Promise<T | undefined>;
    call(startedAt: number | undefined): Promise<{ value: T; stored: boolean }>;
    outage(retryAfter: number): Error;
    /** The Retry-After of an outage error, `undefined` for any other failure. */
    retryAfterOf(error: unknown): number | undefined;
  },
  /** A refresh-ahead of a value the store still holds (see {@link FleetFlight.claim}). */
  claimOptions?: { refresh?: boolean },
): Promise<T> {
  const turn = await flight?.claim(key, claimOptions);
  if (turn?.kind === 'outage') throw handlers.outage(turn.retryAfter);
  if (turn?.kind === 'stored') {
    const answer = await handlers.peer();
    if (answer !== undefined) return answer;
  }
  const finish = turn?.kind === 'call' ? turn.finish : async () => undefined;
  let result: { value: T; stored: boolean };
  try {
    result = await handlers.call(turn?.kind === 'call' ? turn.startedAt : undefined);
  } catch (error) {
    const retryAfter = handlers.retryAfterOf(error);
    await finish(
      retryAfter === undefined ? { outcome: 'not-stored' } : { outcome: 'outage', retryAfter },
    );
    throw error;
  }
  await finish({ outcome: result.stored ? 'stored' : 'not-stored' });
  return result.value;
}
