/**
 * In-process micro benchmarks, run by `bench/run.ts` as a child with
 * `--expose-gc` (argv[2] = JSON {@link MicroConfig}); the result goes back
 * over IPC.
 *
 * - µs per cache hit through the `zitadelAuth` middleware function (no HTTP);
 * - telemetry (bench/micro-telemetry.ts): CPU µs per synchronous hit with
 *   nobody listening vs telemetry compiled out, and vs every channel subscribed;
 * - client assertions signed per second (`signClientAssertion`);
 * - heap bytes per cached entry, through the real introspector: its `fetch`
 *   option answers with the fixture claims (sub/jti varied, future exp), so
 *   the cache holds exactly what it holds in production.
 */
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { loadPackage } from './build';
import { SERVICE_USER_CLAIMS } from './fixture-claims';
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
  const heapBytesPerEntry = await heapPerEntry(settings.heapEntries, gc);
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

/**
 * Heap after gc with `entries` cached answers minus the heap before the
 * cache existed, per entry. Includes the key, the derived AuthInfo with its
 * claims, the LRU's bookkeeping and its slots (sized by maxEntries).
 */
async function heapPerEntry(entries: number, collect: () => void): Promise<number> {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  // The token is `t` + an 18-digit id, used as the caller's sub (ZITADEL ids are 18 digits).
  const fakeZitadel: typeof fetch = async (_url, init) => {
    const sub = (new URLSearchParams(String(init?.body)).get('token') ?? '').slice(1);
    const jti = `V2_${sub}-at_${sub}`;
    const claims = { ...SERVICE_USER_CLAIMS, sub, client_id: sub, jti, exp, iat: exp - 3600 };
    return new Response(JSON.stringify(claims), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const fill = async (count: number, idPrefix: string) => {
    const introspector = createIntrospector({
      issuer: 'https://acme-4tbz9q.zitadel.cloud',
      introspectionEndpoint: 'https://acme-4tbz9q.zitadel.cloud/oauth/v2/introspect',
      clientId: 'bench',
      clientSecret: 'bench-secret',
      fetch: fakeZitadel,
      cache: { maxEntries: count },
    });
    const batch = 50;
    for (let i = 0; i < count; i += batch) {
      const calls = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        calls.push(introspector.introspect(tokenOf(idPrefix, j)));
      }
      for (const info of await Promise.all(calls)) {
        if (!info.active) throw new Error('fixture answer not active');
      }
    }
    return introspector;
  };

  // Warm every code path (and the fetch machinery) before the baseline.
  await (await fill(2000, '9')).close();
  const heapNow = () => {
    collect();
    collect();
    return process.memoryUsage().heapUsed;
  };
  const before = heapNow();
  const introspector = await fill(entries, '3');
  const after = heapNow();
  // Still cached after the measurement: the introspector (and its cache) was alive throughout.
  const { hits } = introspector.stats();
  if ((await introspector.introspect(tokenOf('3', 0))).active !== true) throw new Error('lost');
  if (introspector.stats().hits !== hits + 1) throw new Error('the cache did not hold the entries');
  await introspector.close();
  return (after - before) / entries;
}

/** `t` + an 18-digit id: a distinct token per index. */
function tokenOf(idPrefix: string, index: number): string {
  return `t${idPrefix}${String(index).padStart(17, '0')}`;
}
