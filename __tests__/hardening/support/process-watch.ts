/**
 * Process hygiene for the hardening suites: unhandled rejections and
 * uncaught exceptions are counted (jest 30 fails on them too, this names
 * them), and the handles that keep the event loop alive — servers, sockets,
 * child processes — must be back to where they were once a suite closed
 * everything.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext, runInThisContext } from 'node:vm';

/**
 * The real process: jest's sandbox gives tests a copy of `process` whose
 * listeners never hear the process's own events (warnings, rejections).
 */
const realProcess = runInThisContext('process') as NodeJS.Process;

/**
 * Counts what escaped: rejections nobody handled, exceptions nobody caught,
 * and process warnings (by name), as the real process emits them.
 *
 * @example
 * ```ts
 * const watch = watchProcess();
 * afterAll(() => { watch.stop(); expect(watch.failures).toEqual([]); });
 * ```
 */
export function watchProcess(): { failures: string[]; warnings: string[]; stop(): void } {
  const failures: string[] = [];
  const warnings: string[] = [];
  const onRejection = (reason: unknown) => failures.push(`unhandledRejection: ${String(reason)}`);
  const onException = (error: unknown) => failures.push(`uncaughtException: ${String(error)}`);
  const onWarning = (warning: Error) => warnings.push(warning.name);
  realProcess.on('unhandledRejection', onRejection);
  realProcess.on('uncaughtException', onException);
  realProcess.on('warning', onWarning);
  return {
    failures,
    warnings,
    stop() {
      realProcess.off('unhandledRejection', onRejection);
      realProcess.off('uncaughtException', onException);
      realProcess.off('warning', onWarning);
    },
  };
}

/**
 * Warnings other than the known MaxListenersExceededWarning of more than 10
 * introspections in flight (reported to the lead; see load-shedding.test.ts).
 *
 * @example
 * ```ts
 * expect(unexpectedWarnings(watch.warnings)).toEqual([]);
 * ```
 */
export function unexpectedWarnings(warnings: string[]): string[] {
  return warnings.filter((name) => name !== 'MaxListenersExceededWarning');
}

const WATCHED = ['TCPServerWrap', 'TCPSocketWrap', 'TCPWrap', 'ProcessWrap', 'PipeWrap'];

/**
 * Counts of the network and process handles that keep the event loop alive.
 *
 * @example
 * ```ts
 * const baseline = liveHandles(); // { PipeWrap: 2 }
 * ```
 */
export function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of realProcess.getActiveResourcesInfo()) {
    if (WATCHED.includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Waits (up to `timeoutMs`) for the live handles to fall back to `baseline`;
 * returns what is left over.
 *
 * @example
 * ```ts
 * expect(await handlesLeftOver(baseline)).toEqual({});
 * ```
 */
export async function handlesLeftOver(
  baseline: Record<string, number>,
  timeoutMs = 3000,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = liveHandles();
    const extra = Object.fromEntries(
      Object.entries(now)
        .map(([kind, count]) => [kind, count - (baseline[kind] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
    if (Object.keys(extra).length === 0 || Date.now() > deadline) return extra;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let exposedGc: (() => void) | undefined;

/**
 * Heap in use after a full garbage collection (gc exposed through V8 flags).
 *
 * @example
 * ```ts
 * const before = heapAfterGc();
 * await flood();
 * expect(heapAfterGc() - before).toBeLessThan(16 * 1024 * 1024);
 * ```
 */
export function heapAfterGc(): number {
  if (!exposedGc) {
    setFlagsFromString('--expose-gc');
    exposedGc = runInNewContext('gc') as () => void;
  }
  exposedGc();
  exposedGc();
  return realProcess.memoryUsage().heapUsed;
}
