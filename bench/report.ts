/**
 * The bench's results: their shape (bench/results.json) and what a variant
 * measured. The targets are judged in targets.ts, the machine described in
 * machine.ts; format.ts renders them.
 */
import type { HitPairResult } from './hit-pair';
import type { LoadResult } from './load';
import type { FleetResult } from './fleet';
import type { MicroResult } from './micro';
import type { SteadyStreamResult } from './steady-stream';

/**
 * The HTTP variants, in report order.
 *
 * @example
 * ```ts
 * for (const variant of HTTP_VARIANTS) console.log(results.variants[variant]);
 * ```
 */
export const HTTP_VARIANTS = [
  'baseline',
  'empty-layer',
  'same-shape',
  'hit',
  'hit-telemetry',
  'hit-many',
  'no-cache',
  'redis-hit',
  'jwt-hit',
] as const;
export type HttpVariant = (typeof HTTP_VARIANTS)[number];

/**
 * One HTTP variant over all rounds.
 *
 * @example
 * ```ts
 * const hit = results.variants.hit;
 * if (!('skipped' in hit)) console.log(hit.rps, hit.serverCpuMicrosPerRequest);
 * ```
 */
export type VariantResult =
  | {
      /** Median over rounds of the 2xx answers per second. */
      rps: number;
      latencyP50Ms: number;
      latencyP99Ms: number;
      /** Median over rounds of the server's CPU time per request: robust to other load on the machine. */
      serverCpuMicrosPerRequest: number;
      rounds: LoadResult[];
      /** The introspector's counters summed over the measured runs (a warm cache makes no introspections). */
      statsDuringRuns?: Record<string, number>;
    }
  | { skipped: string };

/**
 * One cold burst.
 *
 * @example
 * ```ts
 * const calls = results.coldBurst.rounds.map((round: BurstRound) => round.introspections);
 * ```
 */
export interface BurstRound {
  ms: number;
  introspections: number;
  coalesced: number;
  hits: number;
  statuses: Record<string, number>;
}

/**
 * What bench/results.json holds.
 *
 * @example
 * ```ts
 * const results = JSON.parse(readFileSync('bench/results.json', 'utf8')) as BenchResults;
 * ```
 */
export interface BenchResults {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; memoryGiB: number };
  loadAverageAtStart: number[];
  settings: {
    rounds: number;
    durationSeconds: number;
    connections: number;
    tokens: number;
    burstSize: number;
    issuerLatencyMs: number;
  };
  variants: Record<HttpVariant, VariantResult>;
  /** hit / same-shape back to back, apart from the other variants (hit-pair.ts). */
  hitPairs: HitPairResult;
  coldBurst: { rounds: BurstRound[]; medianMs: number; maxIntrospections: number };
  micro: MicroResult;
  /** Distinct JWTs each used once, ZITADEL slow: local verification vs introspect mode. */
  jwtCold: JwtColdResult;
  fleet: FleetResult | { skipped: string };
  steadyStream: SteadyStreamResult;
  targets: TargetVerdict[];
}

/**
 * jwt-cold: one measured run per mode per round.
 *
 * @example
 * ```ts
 * const ratio = results.jwtCold.local.rps / results.jwtCold.introspect.rps;
 * ```
 */
export interface JwtColdResult {
  tokensPerRound: { local: number; introspect: number };
  issuerLatencyMs: number;
  local: JwtColdMode;
  introspect: JwtColdMode;
}

/**
 * One mode of jwt-cold: medians over rounds, and the local ZITADEL's introspection calls.
 *
 * @example
 * ```ts
 * results.jwtCold.local.introspectionCalls; // revalidations while measured
 * ```
 */
export interface JwtColdMode {
  rps: number;
  latencyP99Ms: number;
  introspectionCalls: number;
  failures: number;
  rounds: LoadResult[];
}

/**
 * One target and whether it was met.
 *
 * @example
 * ```ts
 * const missed = results.targets.filter((target: TargetVerdict) => !target.met);
 * ```
 */
export interface TargetVerdict {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

/**
 * Median req/s of a variant (NaN when skipped).
 *
 * @example
 * ```ts
 * rpsOf(results, 'hit') / rpsOf(results, 'baseline');
 * ```
 */
export function rpsOf(results: Pick<BenchResults, 'variants'>, variant: HttpVariant): number {
  const result = results.variants[variant];
  return 'skipped' in result ? Number.NaN : result.rps;
}

/**
 * The measured runs of a variant (none when skipped).
 *
 * @example
 * ```ts
 * roundsOf(results, 'hit').map((run) => run.rps);
 * ```
 */
export function roundsOf(
  results: Pick<BenchResults, 'variants'>,
  variant: HttpVariant,
): LoadResult[] {
  const result = results.variants[variant];
  return 'skipped' in result ? [] : result.rounds;
}

/**
 * Median server CPU µs per request of a variant (NaN when skipped).
 *
 * @example
 * ```ts
 * cpuOf(results, 'baseline') / cpuOf(results, 'hit');
 * ```
 */
export function cpuOf(results: Pick<BenchResults, 'variants'>, variant: HttpVariant): number {
  const result = results.variants[variant];
  return 'skipped' in result ? Number.NaN : result.serverCpuMicrosPerRequest;
}
