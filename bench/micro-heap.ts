/**
 * `npx tsx bench/micro-heap.ts [entries] [runs]` — the micro bench's heap
 * bytes per cached entry alone (bench/heap-per-entry.ts, the code
 * bench/micro.ts runs): compiles lib/ as bench/build.ts does, then measures
 * in `runs` fresh child processes with `--expose-gc` (default 100,000
 * entries, 3 runs, as `npm run bench`) and prints each figure. Heap figures
 * are steady enough to compare two heads on a loaded machine, unlike CPU
 * timings. Writes nothing but the build.
 */
import { compilePackage, loadPackage } from './build';
import { heapPerEntry } from './heap-per-entry';
import { forkScript, installCleanup, nextMessage, stopChild, type ChildMessage } from './processes';
import { median } from './stats';

/** What the parent passes a child in argv[2]. */
interface HeapChildConfig {
  buildDir: string;
  entries: number;
}

const child = process.argv[2]?.startsWith('{');
(child ? measure(JSON.parse(process.argv[2]) as HeapChildConfig) : main()).then(
  () => child || process.exit(0),
  (error: Error) => {
    if (child) process.send?.({ type: 'error', message: error.stack ?? error.message });
    else console.error(`micro-heap failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);

async function main(): Promise<void> {
  installCleanup();
  const entries = Number(process.argv[2] ?? 100_000);
  const runs = Number(process.argv[3] ?? 3);
  if (!(entries >= 1 && runs >= 1)) throw new Error('usage: micro-heap.ts [entries] [runs]');
  const buildDir = compilePackage();
  const figures: number[] = [];
  for (let run = 0; run < runs; run++) {
    const measurer = forkScript('micro-heap', { buildDir, entries }, ['--expose-gc']);
    try {
      const { result } = await nextMessage(measurer, 'result', 600_000);
      figures.push(result as number);
      console.log(
        `run ${run + 1}: ${(result as number).toFixed(1)} bytes of heap per cached entry`,
      );
    } finally {
      await stopChild(measurer);
    }
  }
  console.log(`median of ${runs}: ${median(figures).toFixed(0)} bytes (${entries} entries)`);
}

async function measure(config: HeapChildConfig): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const { createIntrospector } = loadPackage<typeof import('../lib')>(config.buildDir, 'index');
  const bytes = await heapPerEntry(createIntrospector, config.entries, gc);
  process.send?.({ type: 'result', result: bytes } satisfies ChildMessage);
}
