/**
 * The bench's results: their shape (bench/results.json), the machine, and
 * the targets with their verdicts. format.ts renders them.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { LoadResult } from './load';
import type { MicroResult } from './micro';
import { median } from './stats';

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
  'hit',
  'hit-many',
  'no-cache',
  'redis-hit',
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
  coldBurst: { rounds: BurstRound[]; medianMs: number; maxIntrospections: number };
  micro: MicroResult;
  targets: TargetVerdict[];
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
 * The machine the bench ran on.
 *
 * @example
 * ```ts
 * console.log(machineInfo().cpuModel);
 * ```
 */
export function machineInfo(): BenchResults['machine'] {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/**
 * The 1-minute load average (other work on a shared machine skews the figures).
 *
 * @example
 * ```ts
 * const [oneMinute] = currentLoad();
 * ```
 */
export function currentLoad(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

/**
 * The targets of issue 6 against the measured figures.
 *
 * @example
 * ```ts
 * results.targets = verdicts(results);
 * ```
 */
export function verdicts(results: Omit<BenchResults, 'targets'>): TargetVerdict[] {
  const ratio = (name: string, a: HttpVariant, b: HttpVariant, min: number): TargetVerdict => {
    // The verdict: ratio of the medians. For context, the same ratio taken within
    // each round (robust to load that drifts between rounds), and by server CPU.
    const value = rpsOf(results, a) / rpsOf(results, b);
    const paired = median(roundsOf(results, a).map((r, i) => r.rps / roundsOf(results, b)[i]?.rps));
    const byCpu = cpuOf(results, b) / cpuOf(results, a);
    return {
      name,
      target: `≥ ${min}`,
      // Three decimals: 0.899 must not read as a missed 0.90.
      measured: `${value.toFixed(3)} (per round: ${paired.toFixed(2)}; by CPU: ${byCpu.toFixed(2)})`,
      met: value >= min,
    };
  };
  const { micro, coldBurst } = results;
  return [
    ratio('hit / baseline throughput', 'hit', 'baseline', 0.95),
    ratio('hit-many / baseline throughput', 'hit-many', 'baseline', 0.9),
    ratio('hit / no-cache throughput', 'hit', 'no-cache', 10),
    {
      name: 'cold-burst introspection calls',
      target: '= 1',
      measured: coldBurst.rounds.map((round) => round.introspections).join(', '),
      met: coldBurst.rounds.length > 0 && coldBurst.rounds.every((r) => r.introspections === 1),
    },
    {
      name: 'µs per cache hit (micro)',
      target: '≤ 5',
      measured: micro.hitMicroseconds.toFixed(2),
      met: micro.hitMicroseconds <= 5,
    },
    {
      name: 'heap bytes per cached entry',
      target: '≤ 3072',
      measured: Math.round(micro.heapBytesPerEntry).toString(),
      met: micro.heapBytesPerEntry <= 3072,
    },
  ];
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
