/**
 * The machine the bench ran on, and how loaded it was.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { BenchResults } from './report';

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
