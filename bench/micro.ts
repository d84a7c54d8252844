/**
 * In-process micro benchmarks, run by `bench/run.ts` as a child with
 * `--expose-gc` (argv[2] = JSON {@link MicroConfig}); the result goes back
 * over IPC.
 *
 * - µs per cache hit through the `zitadelAuth` middleware function (no HTTP);
 * - telemetry (bench/micro-telemetry.ts): CPU µs per synchronous hit with
 *   nobody listening vs telemetry compiled out, and vs every channel subscribed;
 * - client assertions signed per second (`signClientAssertion`);
 * - heap bytes per cached entry, through the real introspector
 *   (bench/heap-per-entry.ts; alone: bench/micro-heap.ts).
 */
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { loadPackage } from './build';
import { heapPerEntry } from './heap-per-entry';
import { telemetryMicro, type TelemetryMicroRounds } from './micro-telemetry';
import type { ChildMessage } from './processes';
import { median } from './stats';
import { telemetryBuilds } from './telemetry-off';

/**
 * What `bench/run.ts` passes in argv[2].
 *
 * @example
 * ```ts
 * forkScript('micro', { ...config, heapEntries: 100_000 } satisfies MicroConfig, ['--expose-gc']);
 * ```
 */
export interface MicroConfig {
  issuer: string;
  apiKeyPath: string;
  /** A token the issuer answers active for. */
  token: string;
  rounds: number;
  hitIterations: number;
  signSeconds: number;
  heapEntries: number;
  /** The compiled package (see build.ts). */
  buildDir: string;
}

/**
 * What the micro benchmarks measured.
 *
 * @example
 * ```ts
 * const { result } = await nextMessage(child, 'result', 300_000); // result: MicroResult
 * ```
 */
export interface MicroResult {
  /** Median over rounds of the mean µs per warm cache hit. */
  hitMicroseconds: number;
  hitRounds: number[];
  /** Median over rounds. */
  assertionsPerSecond: number;
  assertionRounds: number[];
  heapBytesPerEntry: number;
  heapEntries: number;
  /** Synchronous hit loop, nobody listening on the package's channels: median CPU µs per hit. */
  telemetryNoneMicroseconds: number;
  /** The same loop with a no-op subscriber on every channel (rounds alternate with the above). */
  telemetrySubscribedMicroseconds: number;
  /** The real build, nobody listening, in rounds alternating with the compiled-out build. */
  telemetryCompiledInMicroseconds: number;
  /** The same loop on a copy of the build with telemetry compiled out (bench/telemetry-off.ts). */
  telemetryCompiledOutMicroseconds: number;
  /** The same loop on an identical copy of the real build (the comparison's noise floor). */
  telemetryControlMicroseconds: number;
  /** CPU µs per hit of each arm, one value per round. */
  telemetryRounds: TelemetryMicroRounds;
}

const settings = JSON.parse(process.argv[2]) as MicroConfig;
const { createIntrospector, loadKeyFile, zitadelAuth } = loadPackage<typeof import('../lib')>(
  settings.buildDir,
  'index',
);
const { signClientAssertion } = loadPackage<typeof import('../lib/zitadel/assertion')>(
  settings.buildDir,
  'zitadel/assertion',
);
// Two fresh copies of the build for the telemetry loops: as compiled, and with
// telemetry compiled out (channels that never have subscribers).
const telemetryBuild = telemetryBuilds(settings.buildDir);
const withTelemetry = loadPackage<typeof import('../lib')>(telemetryBuild.on, 'index');
const withoutTelemetry = loadPackage<typeof import('../lib')>(telemetryBuild.off, 'index');
const controlCopy = loadPackage<typeof import('../lib')>(telemetryBuild.control, 'index');
const gc = (globalThis as { gc?: () => void }).gc;
const send = (message: ChildMessage) => process.send?.(message);

main().then(
  (result) => send({ type: 'result', result }),
  (error: Error) => send({ type: 'error', message: `micro: ${error.stack ?? error.message}` }),
);

async function main(): Promise<MicroResult> {
  if (!gc) throw new Error('run with node --expose-gc');
  const hitRounds = await cacheHitMicroseconds(settings);
  const assertionRounds = await assertionsPerSecond(settings);
  const heapBytesPerEntry = await heapPerEntry(createIntrospector, settings.heapEntries, gc);
  const telemetryRounds = await telemetryMicro(
    { ...settings, iterations: settings.hitIterations * 2 },
    {
      real: withTelemetry.zitadelAuth,
      control: controlCopy.zitadelAuth,
      off: withoutTelemetry.zitadelAuth,
    },
  );
  return {
    telemetryNoneMicroseconds: median(telemetryRounds.none),
    telemetrySubscribedMicroseconds: median(telemetryRounds.subscribed),
    telemetryCompiledInMicroseconds: median(telemetryRounds.compiledIn),
    telemetryCompiledOutMicroseconds: median(telemetryRounds.compiledOut),
    telemetryControlMicroseconds: median(telemetryRounds.control),
    telemetryRounds,
    hitMicroseconds: median(hitRounds),
    hitRounds,
    assertionsPerSecond: median(assertionRounds),
    assertionRounds,
    heapBytesPerEntry,
    heapEntries: settings.heapEntries,
  };
}

/** Mean µs per call of the middleware on a warm token, one value per round. */
async function cacheHitMicroseconds(config: MicroConfig): Promise<number[]> {
  const auth = zitadelAuth({ issuer: config.issuer, key: config.apiKeyPath });
  const authorization = `Bearer ${config.token}`;
  const res = { setHeader: () => undefined } as unknown as Response;
  const once = () =>
    new Promise<Request>((resolve, reject) => {
      // A fresh request each time, as Express makes one per call.
      const req = { method: 'GET', url: '/hello', headers: { authorization } } as Request;
      const next: NextFunction = (error?: unknown) => (error ? reject(error) : resolve(req));
      auth(req, res, next);
    });

  const warm = await once();
  if (!warm.auth) throw new Error('the warm-up request got no req.auth');
  for (let i = 0; i < config.hitIterations; i++) await once(); // JIT warm-up
  const rounds: number[] = [];
  for (let round = 0; round < config.rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < config.hitIterations; i++) await once();
    rounds.push(((performance.now() - started) * 1000) / config.hitIterations);
  }
  const { misses, hits } = auth.introspector.stats();
  if (misses !== 1 || hits < config.hitIterations) throw new Error('the token was not warm');
  await auth.introspector.close();
  return rounds;
}

/** Client assertions signed per second (sequential), one value per round. */
async function assertionsPerSecond(config: MicroConfig): Promise<number[]> {
  const key = await loadKeyFile(config.apiKeyPath, 'application');
  const rounds: number[] = [];
  for (let round = -1; round < config.rounds; round++) {
    const started = performance.now();
    let signed = 0;
    while (performance.now() - started < config.signSeconds * 1000) {
      await signClientAssertion(key, key.clientId, config.issuer);
      signed++;
    }
    // Round -1 warms up the JIT and is not counted.
    if (round >= 0) rounds.push(signed / ((performance.now() - started) / 1000));
  }
  return rounds;
}
