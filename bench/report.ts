/**
 * The bench's results: their shape (bench/results.json), the targets with
 * their verdicts, and two renderings — a text table for the terminal and
 * Markdown for bench/RESULTS.md (`npx tsx bench/report.ts bench/results.json`).
 */
import { readFileSync } from 'node:fs';
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
export const HTTP_VARIANTS = ['baseline', 'hit', 'hit-many', 'no-cache', 'redis-hit'] as const;
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
      measured: `${value.toFixed(2)} (per round: ${paired.toFixed(2)}; by CPU: ${byCpu.toFixed(2)})`,
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
 * The terminal report.
 *
 * @example
 * ```ts
 * console.log(formatText(results));
 * ```
 */
export function formatText(results: BenchResults): string {
  const { machine, settings } = results;
  const lines = [
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node} (${machine.platform}); load at start ${results.loadAverageAtStart.join(' ')}`,
    `settings: ${settings.rounds} round(s) × ${settings.durationSeconds} s per variant, ${settings.connections} connections, 1 autocannon worker, ${settings.tokens} tokens round-robin for hit-many / no-cache / redis-hit, issuer latency ${settings.issuerLatencyMs} ms for no-cache and cold-burst${results.quick ? ' (QUICK: smoke run, figures not meaningful)' : ''}`,
    '',
    row(['variant', ...COLUMNS]),
  ];
  for (const [name, cells] of variantRows(results)) lines.push(row([name, ...cells]));
  const burst = results.coldBurst;
  lines.push(
    '',
    `cold-burst: ${settings.burstSize} concurrent requests, one fresh token: introspection calls per round ${burst.rounds.map((r) => r.introspections).join(', ')}; all answered in ${burst.medianMs.toFixed(0)} ms (median)`,
    `micro: ${results.micro.hitMicroseconds.toFixed(2)} µs per cache hit through the middleware; ${Math.round(results.micro.assertionsPerSecond)} client assertions signed per second; ${Math.round(results.micro.heapBytesPerEntry)} heap bytes per cached entry (${results.micro.heapEntries} entries)`,
    '',
    row(['target', 'wanted', 'measured', 'verdict']),
  );
  for (const t of results.targets) lines.push(row([t.name, t.target, t.measured, verdict(t)]));
  return lines.join('\n');
}

/**
 * The Markdown report: table, Mermaid chart, targets.
 *
 * @example
 * ```ts
 * writeFileSync('report.md', formatMarkdown(results));
 * ```
 */
export function formatMarkdown(results: BenchResults): string {
  const { machine, settings } = results;
  const measured = HTTP_VARIANTS.filter((v) => !('skipped' in results.variants[v]));
  const table = [
    `| variant | ${COLUMNS.join(' | ')} |`,
    '|---|---:|---|---:|---:|---:|---:|---:|',
    ...variantRows(results).map(([name, cells]) => `| \`${name}\` | ${cells.join(' | ')} |`),
  ];
  const chart = [
    '```mermaid',
    'xychart-beta',
    '    title "Throughput per variant (req/s, median of rounds)"',
    `    x-axis [${measured.map((v) => `"${v}"`).join(', ')}]`,
    '    y-axis "requests per second"',
    `    bar [${measured.map((v) => Math.round(rpsOf(results, v))).join(', ')}]`,
    '```',
  ];
  const targets = [
    '| target | wanted | measured | verdict |',
    '|---|---|---|---|',
    ...results.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${verdict(t)} |`),
  ];
  const burst = results.coldBurst;
  return [
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}. ` +
      `${settings.rounds} rounds × ${settings.durationSeconds} s per variant, variants interleaved, ` +
      `${settings.connections} connections, one autocannon worker on the same machine.`,
    '',
    ...table,
    '',
    ...chart,
    '',
    `Cold burst: ${settings.burstSize} concurrent requests with one fresh token → ` +
      `${burst.rounds.map((r) => r.introspections).join(', ')} introspection call(s) per round; ` +
      `all answered in ${burst.medianMs.toFixed(0)} ms (median, issuer latency ${settings.issuerLatencyMs} ms).`,
    '',
    `Micro: ${results.micro.hitMicroseconds.toFixed(2)} µs per cache hit through the middleware function; ` +
      `${Math.round(results.micro.assertionsPerSecond)} client assertions signed per second; ` +
      `${Math.round(results.micro.heapBytesPerEntry)} bytes of heap per cached entry (${results.micro.heapEntries} entries).`,
    '',
    ...targets,
  ].join('\n');
}

const COLUMNS = [
  'req/s (median)',
  'per round',
  'p50 ms',
  'p99 ms',
  'vs baseline',
  'server CPU µs/req',
  'vs baseline by CPU',
];

function variantRows(results: BenchResults): [string, string[]][] {
  const baseline = rpsOf(results, 'baseline');
  const baselineCpu = cpuOf(results, 'baseline');
  return HTTP_VARIANTS.map((name) => {
    const result = results.variants[name];
    if ('skipped' in result) return [name, [`skipped: ${result.skipped}`, '', '', '', '', '', '']];
    const failures = result.rounds.reduce((sum, r) => sum + r.failures, 0);
    return [
      name,
      [
        Math.round(result.rps).toLocaleString('en-US') + (failures ? ` (${failures} failed!)` : ''),
        result.rounds.map((r) => Math.round(r.rps)).join(' / '),
        result.latencyP50Ms.toFixed(0),
        result.latencyP99Ms.toFixed(0),
        (result.rps / baseline).toFixed(2),
        result.serverCpuMicrosPerRequest.toFixed(0),
        (baselineCpu / result.serverCpuMicrosPerRequest).toFixed(2),
      ],
    ];
  });
}

function rpsOf(results: Pick<BenchResults, 'variants'>, variant: HttpVariant): number {
  const result = results.variants[variant];
  return 'skipped' in result ? Number.NaN : result.rps;
}

function roundsOf(results: Pick<BenchResults, 'variants'>, variant: HttpVariant): LoadResult[] {
  const result = results.variants[variant];
  return 'skipped' in result ? [] : result.rounds;
}

function cpuOf(results: Pick<BenchResults, 'variants'>, variant: HttpVariant): number {
  const result = results.variants[variant];
  return 'skipped' in result ? Number.NaN : result.serverCpuMicrosPerRequest;
}

function verdict(target: TargetVerdict): string {
  return target.met ? 'met' : 'MISSED';
}

function row(cells: string[]): string {
  const widths = [32, 16, 42, 8, 8, 12, 18, 18];
  return cells.map((cell, i) => cell.padEnd(widths[i] ?? 12)).join(' ');
}

if (require.main === module) {
  const file = process.argv[2] ?? `${__dirname}/results.json`;
  console.log(formatMarkdown(JSON.parse(readFileSync(file, 'utf8')) as BenchResults));
}
