/**
 * `npx tsx bench/micro-alone.ts [--quick]` — the micro benchmarks alone
 * (bench/micro.ts, the child `bench/run.ts` forks), without the HTTP
 * variants, the fleet or Redis: compiles lib/, starts the local ZITADEL,
 * mints a token, runs the child with the same counts as `npm run bench`
 * (or `-- --quick`) and prints its lines with the load average at start and
 * end. Writes nothing.
 */
import { loadavg } from 'node:os';
import { compilePackage, loadPackage } from './build';
import type { MicroConfig, MicroResult } from './micro';
import { forkScript, installCleanup, nextMessage, runScript, stopChild } from './processes';
import { median } from './stats';
import { mintTokens } from './tokens';

const quick = process.argv.includes('--quick');
// The counts of bench/run.ts.
const counts = quick
  ? { rounds: 3, hitIterations: 20_000, signSeconds: 0.3, heapEntries: 20_000 }
  : { rounds: 7, hitIterations: 50_000, signSeconds: 1, heapEntries: 100_000 };

runScript(main, 'micro-alone');

async function main(): Promise<void> {
  installCleanup();
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
  const loadAtStart = load();
  const buildDir = compilePackage();
  const { startLocalZitadel } = loadPackage<typeof import('../lib/testing')>(
    buildDir,
    'testing/index',
  );
  const zitadel = await startLocalZitadel();
  try {
    const [token] = await mintTokens(zitadel, 1);
    const config: MicroConfig = {
      ...counts,
      issuer: zitadel.issuer,
      apiKeyPath: zitadel.apiKeyPath,
      token,
      buildDir,
    };
    const child = forkScript('micro', config, ['--expose-gc']);
    let result: MicroResult;
    try {
      result = (await nextMessage(child, 'result', 600_000)).result as MicroResult;
    } finally {
      await stopChild(child);
    }
    for (const line of microLines(result)) console.log(line);
    console.log(`load average (1, 5, 15 min): ${loadAtStart} at start, ${load()} at end`);
  } finally {
    await zitadel.close();
  }
}

/** The micro figures, one line each, telemetry rounds included. */
function microLines(result: MicroResult): string[] {
  const us = (value: number) => `${value.toFixed(3)} µs`;
  const rounds = (values: number[]) => values.map((value) => value.toFixed(3)).join(' ');
  const { telemetryRounds: r } = result;
  const real = result.telemetryCompiledInMicroseconds;
  const off = result.telemetryCompiledOutMicroseconds;
  const control = result.telemetryControlMicroseconds;
  const added = result.telemetrySubscribedMicroseconds - result.telemetryNoneMicroseconds;
  // Round by round (both arms of a pair ran back to back): the median of the differences.
  const paired = (a: number[], b: number[]) => median(a.map((value, i) => value - b[i]));
  return [
    `micro: ${result.hitMicroseconds.toFixed(2)} µs per cache hit through the middleware (awaited); ${Math.round(result.assertionsPerSecond)} client assertions/s; ${Math.round(result.heapBytesPerEntry)} heap bytes per entry (${result.heapEntries} entries)`,
    `telemetry, CPU µs per sync hit, medians of ${r.none.length} interleaved rounds:`,
    `  nobody listening ${us(real)} vs telemetry compiled out ${us(off)}: ratio ${(real / off).toFixed(3)} (${signedUs(real - off)}); an identical copy ${us(control)}: ratio ${(real / control).toFixed(3)} (${signedUs(real - control)}, the noise floor)`,
    `    rounds in      ${rounds(r.compiledIn)}`,
    `    rounds out     ${rounds(r.compiledOut)}`,
    `    rounds control ${rounds(r.control)}`,
    `    paired: in − out ${signedUs(paired(r.compiledIn, r.compiledOut))}, in − control ${signedUs(paired(r.compiledIn, r.control))}`,
    `  nobody listening ${us(result.telemetryNoneMicroseconds)} vs every channel subscribed ${us(result.telemetrySubscribedMicroseconds)}: ${signedUs(added)} per hit (target ≤ 1 µs)`,
    `    rounds none ${rounds(r.none)}`,
    `    rounds subs ${rounds(r.subscribed)}`,
    `    paired: subscribed − none ${signedUs(paired(r.subscribed, r.none))}`,
  ];
}

function signedUs(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)} µs`;
}
