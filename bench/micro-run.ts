/**
 * Runs the micro benchmarks (bench/micro.ts) in a child with `--expose-gc`
 * and returns what it measured.
 */
import type { MicroConfig, MicroResult } from './micro';
import { forkScript, nextMessage, stopChild } from './processes';

/**
 * Forks micro.ts and waits (up to 5 minutes) for its result.
 *
 * @example
 * ```ts
 * const micro = await runMicro({ ...microSettings, issuer, apiKeyPath, token, buildDir });
 * ```
 */
export async function runMicro(config: MicroConfig): Promise<MicroResult> {
  const child = forkScript('micro', config, ['--expose-gc']);
  try {
    return (await nextMessage(child, 'result', 300_000)).result as MicroResult;
  } finally {
    await stopChild(child);
  }
}
