/**
 * The telemetry part of the micro bench (run inside bench/micro.ts): CPU µs
 * per synchronous memory hit through the `zitadelAuth` middleware function
 * (no HTTP), in two interleaved comparisons:
 *
 * - the real build with nobody listening vs a copy with telemetry compiled
 *   out (bench/telemetry-off.ts) and vs an identical copy (the control, the
 *   noise floor): "nothing measurable without subscribers";
 * - nobody listening vs a no-op subscriber on every channel of the package
 *   (decision, circuit, the http tracing channel): "≤ 1 µs added".
 *
 * The arms take turns within each round, in an order that rotates from
 * round to round, so drift of a loaded machine hits them alike and none
 * always runs first (the garbage of one loop is collected during the next).
 * Each loop is timed by the process's CPU time (`process.cpuUsage()`), not
 * the wall clock: on a machine shared by many processes the wall clock also
 * counts the time this one waits for a core, which dwarfs a few hundred ns.
 * The report's `telemetry (micro, …)` line and the target row `telemetry: µs
 * added per hit …` print the results.
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import type { NextFunction, Request, Response } from 'express';
import type { zitadelAuth as ZitadelAuth } from '../lib';

/**
 * What the telemetry loops need: the issuer, the API key, a warm-able token.
 *
 * @example
 * ```ts
 * const settings: TelemetryMicroSettings = { issuer, apiKeyPath, token, rounds: 7, iterations: 40_000 };
 * ```
 */
export interface TelemetryMicroSettings {
  issuer: string;
  apiKeyPath: string;
  token: string;
  /** Pairs of loops per comparison (at least 7 are run). */
  rounds: number;
  /** Hits per loop. */
  iterations: number;
}

/**
 * CPU µs per hit, one value per round and arm.
 *
 * @example
 * ```ts
 * const { compiledIn, compiledOut, control } = await telemetryMicro(settings, { real, control, off });
 * ```
 */
export interface TelemetryMicroRounds {
  /** The real build, nobody listening (paired with `compiledOut`). */
  compiledIn: number[];
  /** The build with telemetry compiled out. */
  compiledOut: number[];
  /** An identical copy of the real build, in the same rounds (the noise floor). */
  control: number[];
  /** The real build, nobody listening (paired with `subscribed`). */
  none: number[];
  /** The real build, a no-op subscriber on every channel. */
  subscribed: number[];
}

/** The fewest rounds a comparison runs, whatever the config asks for. */
export const MIN_TELEMETRY_ROUNDS = 7;

/** Loops per arm before the first measured round (one loop did not reach steady state). */
const WARM_UP_LOOPS = 5;

/**
 * Runs both comparisons: compiled in vs out first (before anything ever
 * subscribed in this process, as in an app that never subscribes), then
 * nobody listening vs every channel subscribed.
 *
 * @example
 * ```ts
 * const rounds = await telemetryMicro(settings, { real: on.zitadelAuth, control: copy.zitadelAuth, off: off.zitadelAuth });
 * ```
 */
export async function telemetryMicro(
  settings: TelemetryMicroSettings,
  builds: { real: typeof ZitadelAuth; control: typeof ZitadelAuth; off: typeof ZitadelAuth },
): Promise<TelemetryMicroRounds> {
  const rounds = Math.max(settings.rounds, MIN_TELEMETRY_ROUNDS);
  const real = await hitLoop(builds.real, settings);
  const control = await hitLoop(builds.control, settings);
  const off = await hitLoop(builds.off, settings);
  try {
    const arms = [real, off, control];
    // JIT warm-up of all: a few loops each, in turn, until the optimizing
    // compiler is done with the middleware and the cache.
    for (let i = 0; i < WARM_UP_LOOPS; i++) for (const arm of arms) arm.loop();
    const measured: number[][] = [[], [], []];
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < arms.length; turn++) {
        const arm = (turn + round) % arms.length;
        measured[arm].push(arms[arm].loop());
      }
    }
    const [compiledIn, compiledOut, controlRounds] = measured;
    const warm = subscribeAll();
    for (let i = 0; i < WARM_UP_LOOPS; i++) real.loop(); // the subscribed path too
    warm.stop();
    const none: number[] = [];
    const subscribed: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) none.push(real.loop());
      const on = subscribeAll();
      subscribed.push(real.loop());
      on.stop();
      if (round % 2 === 1) none.push(real.loop());
    }
    return { compiledIn, compiledOut, control: controlRounds, none, subscribed };
  } finally {
    await real.close();
    await control.close();
    await off.close();
  }
}

/** A middleware of `build` with its token warm, and a loop of synchronous hits on it. */
async function hitLoop(
  build: typeof ZitadelAuth,
  settings: TelemetryMicroSettings,
): Promise<{ loop(): number; close(): Promise<void> }> {
  const auth = build({ issuer: settings.issuer, key: settings.apiKeyPath });
  const authorization = `Bearer ${settings.token}`;
  const res = { setHeader: () => undefined } as unknown as Response;
  let granted = 0;
  const next: NextFunction = (error?: unknown) => {
    if (error) throw error;
    granted++;
  };
  // The first call introspects; every later one is a synchronous memory hit.
  await new Promise<void>((resolve, reject) =>
    auth({ headers: { authorization } } as Request, res, (error?: unknown) =>
      error ? reject(error as Error) : resolve(),
    ),
  );
  const { iterations } = settings;
  return {
    loop() {
      const before = granted;
      const started = process.cpuUsage();
      for (let i = 0; i < iterations; i++) {
        auth({ headers: { authorization } } as Request, res, next);
      }
      const used = process.cpuUsage(started);
      // A memory hit calls next() synchronously; anything else would not be a hit.
      if (granted - before !== iterations) throw new Error('a hit was not synchronous');
      return (used.user + used.system) / iterations;
    },
    close: () => auth.introspector.close(),
  };
}

/**
 * A no-op subscriber on every channel of the package.
 *
 * @example
 * ```ts
 * const on = subscribeAll();
 * on.stop();
 * ```
 */
export function subscribeAll(): { stop(): void } {
  const noop = () => {};
  const http = tracingChannel('express-zitadel-introspection:http');
  const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
  subscribe('express-zitadel-introspection:decision', noop);
  subscribe('express-zitadel-introspection:circuit', noop);
  http.subscribe(handlers);
  return {
    stop() {
      unsubscribe('express-zitadel-introspection:decision', noop);
      unsubscribe('express-zitadel-introspection:circuit', noop);
      http.unsubscribe(handlers);
    },
  };
}
