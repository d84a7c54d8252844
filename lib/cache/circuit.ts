/**
 * The circuit in front of the introspection call: ZITADEL's `Retry-After`
 * and the 429 back-off (1, 2, 4, … 60 s) open it; meanwhile misses get 503
 * without a call. When it ends, one probe call goes first (one per fleet with
 * a {@link FleetLink}) and the others keep answering 503 `Retry-After: 1`
 * until the probe succeeds, so nobody stampedes a ZITADEL that just recovered.
 * With a link, openings are published to the fleet and the back-off exponent
 * lives in Redis; any Redis failure or slowness makes this replica act alone.
 */
import { randomBytes } from 'node:crypto';
import { IntrospectionUnavailableError } from '../errors';
import type { FleetLink, FleetMessage } from './fleet-link';
import {
  BACKOFF_SCRIPT,
  HOLD_LOCK_SCRIPT,
  RELEASE_SCRIPT,
  RESET_SCRIPT,
  TAKE_LOCK_SCRIPT,
} from './flow-scripts';

/** What opened the circuit: ZITADEL's `Retry-After`, our 429 back-off, or another replica. */
export type CircuitCause = 'retry-after' | 'backoff' | 'peer';

/**
 * A change of the circuit, for telemetry: `open` with the seconds it stays
 * open; `closed` once the first call after it succeeded.
 *
 * @example
 * ```ts
 * const listener = (change: CircuitChange) => channel.publish(change);
 * ```
 */
export type CircuitChange =
  { state: 'open'; seconds: number; cause: CircuitCause } | { state: 'closed' };

/**
 * Why a call failed, as far as the circuit cares: ZITADEL's `Retry-After`
 * (seconds, 1..60), a 429 without one, or anything else (`undefined`).
 */
export type BusySignal = { retryAfterSeconds: number } | 'rate-limited' | undefined;

/** A call the circuit let through; hand it back to `succeeded` or `failed`. */
export interface CircuitPass {
  /** The first call after a circuit ended: its outcome closes the circuit or not. */
  readonly probe: boolean;
  /** The probe lock's value in Redis (compare-and-delete), if this replica took it. */
  readonly lock?: string;
}

/**
 * The circuit of {@link createCircuit}.
 *
 * @example
 * ```ts
 * const pass = await circuit.admit();
 * try { await call(); circuit.succeeded(pass); } catch (e) { await circuit.failed(pass, 'rate-limited'); }
 * ```
 */
export interface Circuit {
  /** A pass for one call, or throws {@link IntrospectionUnavailableError} (open, or a probe is out). */
  admit(): CircuitPass | Promise<CircuitPass>;
  /** The call answered: a probe closes the circuit and resets the back-off. */
  succeeded(pass: CircuitPass): void;
  /**
   * The call failed: a busy signal opens the circuit. Resolves to the seconds
   * it is now open (what the failed request's `Retry-After` should say), or
   * `undefined` when it did not open.
   */
  failed(pass: CircuitPass, signal: BusySignal): Promise<number | undefined>;
  /** The call never started (refused after the circuit let it through). */
  abandon(pass: CircuitPass): void;
  /** The circuit now (for `health()`): open while calls are refused for its seconds. */
  state(): { open: boolean; secondsLeft: number };
  /** Looks for the fleet's link now (hears its messages from then on). */
  connect(): void;
  /** Stops listening to the fleet. */
  close(): void;
}

/** Options of {@link createCircuit}. */
export interface CircuitOptions {
  now: () => number;
  /**
   * The fleet's link, asked lazily: a coordinating store has one only once the
   * credential is loaded. Its messages are heard from the first time it is seen.
   */
  link?: () => FleetLink | undefined;
  /** How long a probe lock holds in Redis: longer than one call with its retries. */
  probeLockMs: number;
  onChange?: (change: CircuitChange) => void;
}

const MAX_SECONDS = 60;
/** The back-off exponent is forgotten this long after the last 429 (twice the cap). */
const BACKOFF_MEMORY_MS = 2 * MAX_SECONDS * 1000;
const FREE: CircuitPass = Object.freeze({ probe: false });
const LOCAL_PROBE: CircuitPass = Object.freeze({ probe: true });

/**
 * Creates the circuit.
 *
 * @example
 * ```ts
 * const circuit = createCircuit({ now: Date.now, probeLockMs: 11_000, link: () => fleetLink });
 * const pass = await circuit.admit();
 * ```
 */
export function createCircuit(options: CircuitOptions): Circuit {
  const { now, onChange } = options;
  let openUntil = 0;
  // A circuit opened and no call has succeeded since: the next call is a probe.
  let pending = false;
  let probing = false;
  let exponent = 0;
  let lastBackOffAt = 0;
  let heard: FleetLink | undefined;
  let unsubscribe: (() => void) | undefined;
  let closed = false;

  /** The link now; subscribes to it the first time it is seen. */
  function fleet(): FleetLink | undefined {
    const link = options.link?.();
    if (link && link !== heard && !closed) {
      unsubscribe?.();
      heard = link;
      unsubscribe = link.onMessage(onPeerMessage);
    }
    return link;
  }

  function open(ms: number, cause: CircuitCause): number {
    const seconds = Math.min(MAX_SECONDS, Math.max(1, Math.ceil(ms / 1000)));
    pending = true;
    const until = now() + ms;
    // Overlapping circuits combine by the later end; a shorter one changes nothing.
    if (until <= openUntil) return Math.ceil((openUntil - now()) / 1000);
    openUntil = until;
    onChange?.({ state: 'open', seconds, cause });
    const link = fleet();
    // Seconds, not an absolute time: the replicas' clocks need not agree.
    if (cause !== 'peer' && link) void link.publish({ type: 'circuit', seconds });
    return seconds;
  }

  function closeCircuit(publish: boolean) {
    const changed = pending;
    pending = false;
    openUntil = 0;
    exponent = 0;
    if (changed) onChange?.({ state: 'closed' });
    const link = publish ? fleet() : undefined;
    if (link) {
      void link.publish({ type: 'circuit-closed' });
      link.eval(RESET_SCRIPT, [link.key('backoff')], []).catch(ignore);
    }
  }

  function onPeerMessage(message: FleetMessage) {
    if (message.type === 'circuit') {
      const seconds = Number(message.seconds);
      if (!Number.isFinite(seconds)) return;
      open(Math.min(MAX_SECONDS, Math.max(1, Math.round(seconds))) * 1000, 'peer');
    } else if (message.type === 'circuit-closed') {
      closeCircuit(false);
    }
  }

  async function takeProbeLock(link: FleetLink): Promise<CircuitPass> {
    const lock = randomBytes(12).toString('base64url');
    let won: unknown;
    try {
      won = await link.eval(
        TAKE_LOCK_SCRIPT,
        [link.key('probe')],
        [lock, String(options.probeLockMs)],
      );
    } catch {
      // Redis slow or down: this replica probes on its own.
      return LOCAL_PROBE;
    }
    if (won !== 1) {
      probing = false;
      throw refusal(1, 'another replica is probing ZITADEL after an open circuit');
    }
    return { probe: true, lock };
  }

  /**
   * Ends a probe. A probe that met a busy ZITADEL keeps the fleet's probe lock
   * until the new circuit ends (`holdMs`): a replica that has not heard of the
   * new circuit yet must not probe again meanwhile.
   */
  function endProbe(pass: CircuitPass, holdMs?: number) {
    if (!pass.probe) return;
    probing = false;
    const link = pass.lock ? fleet() : undefined;
    if (!pass.lock || !link) return;
    const [script, args] =
      holdMs === undefined
        ? [RELEASE_SCRIPT, [pass.lock]]
        : [HOLD_LOCK_SCRIPT, [pass.lock, String(holdMs)]];
    link.eval(script, [link.key('probe')], args).catch(ignore);
  }

  /** Opens the circuit for the next back-off step; resolves to its seconds. */
  async function backOff(): Promise<number> {
    const left = openUntil - now();
    // A call that began before the circuit opened: the same 429 wave, no doubling.
    if (left > 0) return open(left, 'backoff');
    // As in Redis: a 429 long after the last one starts again at 1 s.
    if (now() - lastBackOffAt > BACKOFF_MEMORY_MS) exponent = 0;
    lastBackOffAt = now();
    exponent++;
    const localMs = Math.min(2 ** Math.min(exponent - 1, 6), MAX_SECONDS) * 1000;
    const link = fleet();
    if (!link) return open(localMs, 'backoff');
    let ms = localMs;
    try {
      // The fleet's exponent; its window also folds a wave of 429s into one step.
      const answer = Number(
        await link.eval(BACKOFF_SCRIPT, [link.key('backoff')], [String(BACKOFF_MEMORY_MS)]),
      );
      if (Number.isFinite(answer) && answer > 0) ms = Math.min(answer, MAX_SECONDS * 1000);
    } catch {
      // Redis slow or down: this replica's own exponent.
    }
    return open(ms, 'backoff');
  }

  return {
    admit() {
      const link = fleet();
      const left = openUntil - now();
      if (left > 0) throw refusal(Math.ceil(left / 1000), 'ZITADEL asked us to back off');
      if (!pending) return FREE;
      if (probing) throw refusal(1, 'a probe call is testing ZITADEL after an open circuit');
      probing = true;
      return link ? takeProbeLock(link) : LOCAL_PROBE;
    },

    succeeded(pass) {
      endProbe(pass);
      // Only the probe speaks for ZITADEL now: a call that began before the
      // circuit opened says nothing about whether it may close.
      if (pass.probe && openUntil <= now()) closeCircuit(true);
    },

    async failed(pass, signal) {
      if (signal === undefined) {
        endProbe(pass);
        return undefined;
      }
      const seconds =
        signal === 'rate-limited'
          ? await backOff()
          : open(signal.retryAfterSeconds * 1000, 'retry-after');
      endProbe(pass, Math.max(1, openUntil - now()));
      return seconds;
    },

    abandon: endProbe,

    state() {
      const left = openUntil - now();
      return { open: left > 0, secondsLeft: left > 0 ? Math.ceil(left / 1000) : 0 };
    },

    /** Subscribes to the fleet's messages as soon as its link is there. */
    connect() {
      fleet();
    },

    close() {
      closed = true;
      unsubscribe?.();
    },
  };
}

function refusal(seconds: number, why: string): IntrospectionUnavailableError {
  return new IntrospectionUnavailableError(`${why} (circuit open)`, {
    retryAfterSeconds: seconds,
  });
}

function ignore() {}
