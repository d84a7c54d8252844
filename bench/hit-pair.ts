/**
 * `hit` / `same-shape` in pairs — the figure the hit path defends, measured
 * apart from the other variants: the two servers only, back to back, their
 * order swapped every pair, so both see the same moment of this shared
 * machine. Reports the median of the per-pair ratios, by throughput and by
 * server CPU per request.
 */
import { serverStats, type Server } from './bench-servers';
import { load } from './load';
import { settings } from './settings';
import { median } from './stats';

/**
 * What the pairs measured.
 *
 * @example
 * ```ts
 * const { rpsRatio, cpuRatio } = results.hitPairs;
 * ```
 */
export interface HitPairResult {
  pairs: number;
  seconds: number;
  /** hit req/s ÷ same-shape req/s, one per pair. */
  rpsRatios: number[];
  /** same-shape CPU µs/request ÷ hit CPU µs/request, one per pair (≥ 1: hit costs no more). */
  cpuRatios: number[];
  rpsRatio: number;
  cpuRatio: number;
  /** Median server CPU µs per request of each. */
  hitCpuMicros: number;
  sameShapeCpuMicros: number;
}

/**
 * Runs `pairs` pairs of `seconds` each against the two servers with one warm token.
 *
 * @example
 * ```ts
 * const pairs = await runHitPairs(servers.get('hit')!, servers.get('same-shape')!, hitToken, { pairs: 10, seconds: 3 });
 * ```
 */
export async function runHitPairs(
  hit: Server,
  sameShape: Server,
  token: string,
  options: { pairs: number; seconds: number },
): Promise<HitPairResult> {
  const runs = { hit: [] as Run[], sameShape: [] as Run[] };
  for (const server of [hit, sameShape]) await run(server, token, settings.warmupSeconds);
  for (let pair = 0; pair < options.pairs; pair++) {
    const order = pair % 2 ? (['sameShape', 'hit'] as const) : (['hit', 'sameShape'] as const);
    for (const name of order) {
      runs[name].push(await run(name === 'hit' ? hit : sameShape, token, options.seconds));
    }
  }
  const rpsRatios = runs.hit.map((h, i) => h.rps / runs.sameShape[i].rps);
  const cpuRatios = runs.hit.map((h, i) => runs.sameShape[i].cpuMicros / h.cpuMicros);
  return {
    pairs: options.pairs,
    seconds: options.seconds,
    rpsRatios,
    cpuRatios,
    rpsRatio: median(rpsRatios),
    cpuRatio: median(cpuRatios),
    hitCpuMicros: median(runs.hit.map((r) => r.cpuMicros)),
    sameShapeCpuMicros: median(runs.sameShape.map((r) => r.cpuMicros)),
  };
}

interface Run {
  rps: number;
  /** Server CPU µs per request. */
  cpuMicros: number;
}

async function run(server: Server, token: string, seconds: number): Promise<Run> {
  const before = await serverStats(server);
  const result = await load({
    port: server.port,
    tokens: [token],
    connections: settings.connections,
    duration: seconds,
  });
  const after = await serverStats(server);
  if (result.failures) throw new Error(`${server.name}: ${result.failures} failed requests`);
  return { rps: result.rps, cpuMicros: (after.cpuMicros - before.cpuMicros) / result.requests };
}
