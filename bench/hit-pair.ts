/**
 * `hit` / `same-shape` in pairs — the figure the hit path defends, measured
 * apart from the other variants: the two servers only, back to back, their
 * order rotated every pair, so both see the same moment of this shared
 * machine. Reports the median of the per-pair ratios, by throughput and by
 * server CPU per request.
 *
 * Each pair also times a second, identical `same-shape` process (the A/A
 * control): two processes of the same server differ on their own (JIT and
 * memory layout; on this machine by ~5 %), and that spread is the floor
 * under any ratio of two processes. `control / same-shape` says how large it
 * was in this run.
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
 * const { rpsRatio, cpuRatio, controlRpsRatio } = results.hitPairs;
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
  /** The control (a second same-shape process) ÷ same-shape, one per pair, by throughput. */
  controlRpsRatios: number[];
  /** Medians of the control's ratios, by throughput and by CPU (1.0: no spread). */
  controlRpsRatio: number;
  controlCpuRatio: number;
}

type Name = 'hit' | 'sameShape' | 'control';

/**
 * Runs `pairs` pairs of `seconds` each against the servers with one warm token.
 *
 * @example
 * ```ts
 * const pairs = await runHitPairs(
 *   { hit: servers.get('hit')!, sameShape: servers.get('same-shape')!, control: servers.get('same-shape-control')! },
 *   hitToken,
 *   { pairs: 10, seconds: 3 },
 * );
 * ```
 */
export async function runHitPairs(
  servers: Record<Name, Server>,
  token: string,
  options: { pairs: number; seconds: number },
): Promise<HitPairResult> {
  const names: Name[] = ['hit', 'sameShape', 'control'];
  const runs: Record<Name, Run[]> = { hit: [], sameShape: [], control: [] };
  for (const name of names) await run(servers[name], token, settings.warmupSeconds);
  for (let pair = 0; pair < options.pairs; pair++) {
    // Rotations and their reverses: every order of the three once per six pairs.
    const shift = pair % names.length;
    const order = [...names.slice(shift), ...names.slice(0, shift)];
    for (const name of pair % 2 ? order.reverse() : order) {
      runs[name].push(await run(servers[name], token, options.seconds));
    }
  }
  const byRps = (of: Name) => runs[of].map((r, i) => r.rps / runs.sameShape[i].rps);
  const byCpu = (of: Name) => runs[of].map((r, i) => runs.sameShape[i].cpuMicros / r.cpuMicros);
  const rpsRatios = byRps('hit');
  const cpuRatios = byCpu('hit');
  const controlRpsRatios = byRps('control');
  return {
    pairs: options.pairs,
    seconds: options.seconds,
    rpsRatios,
    cpuRatios,
    rpsRatio: median(rpsRatios),
    cpuRatio: median(cpuRatios),
    hitCpuMicros: median(runs.hit.map((r) => r.cpuMicros)),
    sameShapeCpuMicros: median(runs.sameShape.map((r) => r.cpuMicros)),
    controlRpsRatios,
    controlRpsRatio: median(controlRpsRatios),
    controlCpuRatio: median(byCpu('control')),
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
