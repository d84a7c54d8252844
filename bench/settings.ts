/**
 * The bench's settings, from its command line (the flags are described in
 * run.ts): how long and how often each part runs, `--quick` shrinking all.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : undefined;
};

/**
 * `--quick`: a short smoke run whose figures are not meaningful.
 *
 * @example
 * ```ts
 * if (quick) console.log('smoke run');
 * ```
 */
export const quick = argv.includes('--quick');

/**
 * Rounds, durations, counts and latencies of the HTTP, jwt-cold, cold-burst,
 * fleet and steady-stream parts.
 *
 * @example
 * ```ts
 * for (let round = 0; round < settings.rounds; round++) await measureRound(round);
 * ```
 */
export const settings = {
  rounds: flag('--rounds') ?? (quick ? 1 : 5),
  durationSeconds: flag('--duration') ?? (quick ? 1.5 : 5),
  warmupSeconds: quick ? 0.5 : 1,
  connections: 50,
  tokens: quick ? 1000 : 10_000,
  burstSize: 500,
  issuerLatencyMs: 5,
  /** jwt-cold: distinct self-minted JWTs in all (each used once), and kit tokens per introspect round. */
  jwtTokens: quick ? 2000 : 50_000,
  jwtIntrospectPerRound: quick ? 300 : 1000,
  slowIssuerMs: 200,
  fleet: {
    replicas: 4,
    tokens: quick ? 100 : 1000,
    issuerLatencyMs: 200,
    inFlightTokens: 25,
    trials: quick ? 10 : 100,
    maxTtlSeconds: 300,
  },
  steadyStreamTtls: quick ? 2 : 5,
  /** hit-pair.ts: hit / same-shape back to back, this many pairs of this many seconds. */
  hitPairs: { pairs: quick ? 2 : 12, seconds: quick ? 1 : 3 },
};

/**
 * The micro benchmarks' counts (the rest of their MicroConfig comes from the run).
 *
 * @example
 * ```ts
 * await runMicro({ ...microSettings, issuer, apiKeyPath, token, buildDir });
 * ```
 */
export const microSettings = quick
  ? { rounds: 3, hitIterations: 20_000, signSeconds: 0.3, heapEntries: 20_000 }
  : { rounds: 7, hitIterations: 50_000, signSeconds: 1, heapEntries: 100_000 };

/**
 * `--profile`: the folder the servers' `--cpu-prof` profiles go to.
 *
 * @example
 * ```ts
 * if (profileDir) console.log(`CPU profiles: ${profileDir}`);
 * ```
 */
export const profileDir = argv.includes('--profile')
  ? mkdtempSync(join(tmpdir(), 'zitadel-bench-profiles-'))
  : undefined;

/**
 * Where the results go (a quick run does not overwrite the committed ones).
 *
 * @example
 * ```ts
 * writeFileSync(resultsFile, JSON.stringify(results));
 * ```
 */
export const resultsFile = join(__dirname, quick ? 'results.json.tmp' : 'results.json');
