/**
 * Remembers evictions, so that work which began before one (a call, a
 * refresh, a store read) cannot write its answer back afterwards, and a store
 * value written before one is not served again. Two clocks: a generation
 * counter for in-process work, and eviction times (the fleet's time: Redis's
 * with a coordinating store, the injected clock otherwise) for stored values.
 */

/**
 * The marks of one piece of work, taken when it starts.
 *
 * @example
 * ```ts
 * const work = ledger.begin(startedAt);
 * // … the call …
 * if (ledger.allows(work, key, subject)) memory.set(key, entry);
 * ```
 */
export interface WorkStart {
  /** Generation when the work began. */
  readonly generation: number;
  /** Fleet time when the work began (0 = unknown: any eviction covers it). */
  readonly startedAt: number;
}

/**
 * Eviction marks per key, per subject, per session id and for everything.
 *
 * @example
 * ```ts
 * const ledger = createEvictionLedger({ retainMs: 600_000, now: Date.now });
 * ledger.evict({ key }, Date.now());
 * ledger.covers(key, subject, storedAt); // true: that stored value predates the eviction
 * ```
 */
export interface EvictionLedger {
  begin(startedAt: number): WorkStart;
  /** Records an eviction at fleet time `at`. */
  evict(target: EvictionTarget, at: number): void;
  /** Whether no eviction of the key, its subject or everything happened since `work` began. */
  allows(work: WorkStart, key: string, subject: string | undefined): boolean;
  /**
   * Whether a value stored at `storedAt` for this key / subject is covered by
   * an eviction recorded before `asOf` began (a read in flight during a later
   * eviction may still answer as it was).
   */
  covers(key: string, subject: string | undefined, storedAt: number, asOf: WorkStart): boolean;
  /**
   * Fleet time of the last eviction of this jti, subject, session or
   * everything, whichever is latest.
   */
  evictedAt(target: { jti?: string; subject?: string; session?: string }): number | undefined;
  /**
   * Whether any jti, subject, session or fleet-wide mark was ever recorded:
   * without one, {@link evictedAt} is `undefined` for every target, and a
   * cold local JWT need not compute the ids it would ask with.
   */
  hasMarkers(): boolean;
}

/** What one eviction names (exactly one member). */
export type EvictionTarget =
  { key: string; jti?: string } | { subject: string } | { session: string } | { all: true };

interface Mark {
  generation: number;
  at: number;
  /** Local clock after which the mark can matter to no work and no stored value. */
  forgetAt: number;
}

/** Pruning starts above this many marks of one kind. */
const PRUNE_ABOVE = 1024;

/**
 * Creates a ledger whose marks live `retainMs` (the longest a stored value or
 * work in flight can outlive an eviction).
 *
 * @example
 * ```ts
 * const ledger = createEvictionLedger({ retainMs: 310_000, now: Date.now });
 * ```
 */
export function createEvictionLedger(options: {
  retainMs: number;
  /**
   * How long subject, jti and fleet-wide marks last (default `retainMs`):
   * longer, since they also keep an evicted JWT verified without a call
   * refused until its `exp`.
   */
  markerRetainMs?: number;
  now: () => number;
}): EvictionLedger {
  const markerRetainMs = Math.max(options.retainMs, options.markerRetainMs ?? 0);
  let generation = 0;
  let all: Mark | undefined;
  const keys = new Map<string, Mark>();
  const subjects = new Map<string, Mark>();
  const jtis = new Map<string, Mark>();
  // Session marks only answer evictedAt (local JWT): a session's cached keys
  // are evicted one by one through the session index.
  const sessions = new Map<string, Mark>();

  const record = (map: Map<string, Mark>, name: string, mark: Mark): void => {
    const previous = map.get(name);
    map.delete(name);
    map.set(name, previous && previous.at > mark.at ? { ...mark, at: previous.at } : mark);
    if (map.size <= PRUNE_ABOVE) return;
    // Insertion order is forget order (same retention): stop at the first live mark.
    const clock = options.now();
    for (const [name, old] of map) {
      if (old.forgetAt > clock) break;
      map.delete(name);
    }
  };
  const live = (mark: Mark | undefined): Mark | undefined =>
    mark && mark.forgetAt > options.now() ? mark : undefined;
  const latest = (...marks: (Mark | undefined)[]): number | undefined => {
    let at: number | undefined;
    for (const mark of marks) {
      const m = live(mark);
      if (m && (at === undefined || m.at > at)) at = m.at;
    }
    return at;
  };

  return {
    begin: (startedAt) => ({ generation, startedAt }),

    evict(target, at) {
      generation++;
      const clock = options.now();
      const mark = { generation, at, forgetAt: clock + options.retainMs };
      const marker = { generation, at, forgetAt: clock + markerRetainMs };
      if ('key' in target) {
        record(keys, target.key, mark);
        if (target.jti !== undefined) record(jtis, target.jti, marker);
      } else if ('subject' in target) {
        record(subjects, target.subject, marker);
      } else if ('session' in target) {
        record(sessions, target.session, marker);
      } else if (!all || at >= all.at) {
        all = marker;
      } else {
        all = { ...marker, at: all.at };
      }
    },

    allows(work, key, subject) {
      const newer = (mark: Mark | undefined): boolean =>
        mark !== undefined && mark.generation > work.generation;
      if (newer(all) || newer(keys.get(key))) return false;
      return subject === undefined || !newer(subjects.get(subject));
    },

    covers(key, subject, storedAt, asOf) {
      const known = (mark: Mark | undefined): Mark | undefined =>
        mark && mark.generation <= asOf.generation ? mark : undefined;
      const at = latest(
        known(all),
        known(keys.get(key)),
        subject === undefined ? undefined : known(subjects.get(subject)),
      );
      return at !== undefined && at >= storedAt;
    },

    hasMarkers: () => all !== undefined || jtis.size > 0 || subjects.size > 0 || sessions.size > 0,

    evictedAt({ jti, subject, session }) {
      return latest(
        all,
        jti === undefined ? undefined : jtis.get(jti),
        subject === undefined ? undefined : subjects.get(subject),
        session === undefined ? undefined : sessions.get(session),
      );
    },
  };
}
