/**
 * `npm run bench` — throughput of the middleware against a hello-world
 * baseline, under autocannon, with the local ZITADEL as the issuer; then the
 * in-process micro benchmarks. Prints a table and writes bench/results.json
 * (`--quick`: a short smoke run, written to bench/results.json.tmp).
 *
 * Flags: `--quick`, `--rounds N`, `--duration S`, `--profile` (servers run
 * with `--cpu-prof`; the profiles' folder is printed at the end). Redis:
 * `REDIS_URL`, else a private redis-server, else redis-hit is skipped
 * (`BENCH_REDIS=off` skips it on purpose).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalZitadel } from '../lib/testing';
import { compilePackage, loadPackage } from './build';
import { burst, load, type LoadResult } from './load';
import type { MicroConfig, MicroResult } from './micro';
import { forkScript, installCleanup, nextMessage, startRedis, stopChild } from './processes';
import { formatText } from './format';
import * as report from './report';
import type { BenchResults, BurstRound, HttpVariant, VariantResult } from './report';
import type { ServerConfig, ServerVariant } from './server';
import { median } from './stats';
import { mintTokens } from './tokens';
import { runFleet } from './fleet';
import { startJwtIssuer } from './jwt-tokens';
import { runSteadyStream } from './steady-stream';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const flag = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : undefined;
};
const settings = {
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
};
const micro = quick
  ? { rounds: 3, hitIterations: 20_000, signSeconds: 0.3, heapEntries: 20_000 }
  : { rounds: 7, hitIterations: 50_000, signSeconds: 1, heapEntries: 100_000 };
const profileDir = argv.includes('--profile')
  ? mkdtempSync(join(tmpdir(), 'zitadel-bench-profiles-'))
  : undefined;
const resultsFile = join(__dirname, quick ? 'results.json.tmp' : 'results.json');

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const loadAverageAtStart = report.currentLoad();
  const log = (message: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);

  log('compiling lib/ with tsc (the bench measures the compiled package)');
  const buildDir = compilePackage();
  const { startLocalZitadel } = loadPackage<typeof import('../lib/testing')>(
    buildDir,
    'testing/index',
  );
  const zitadel = await startLocalZitadel();
  const redis = await startRedis();
  const jwtIssuer = await startJwtIssuer({ issuer: zitadel.issuer, projectId: zitadel.projectId });
  try {
    log(`local ZITADEL at ${zitadel.issuer}; minting ${settings.tokens} tokens`);
    const pool = await mintTokens(zitadel, settings.tokens + 2 + settings.rounds);
    const manyTokens = pool.slice(0, settings.tokens);
    const [hitToken, microToken, ...burstTokens] = pool.slice(settings.tokens);
    log(`minting ${settings.jwtTokens + 1} ES256 JWTs with jose (jwt-cold, jwt-hit)`);
    const [jwtHitToken, ...jwtTokens] = await jwtIssuer.mint(settings.jwtTokens + 1);
    const jwtLocalPerRound = Math.floor(settings.jwtTokens / settings.rounds);
    // Introspect mode needs tokens ZITADEL knows: the kit's, fresh to that server.
    const introspectTokens = pool.slice(0, settings.jwtIntrospectPerRound * settings.rounds);
    if (introspectTokens.length < settings.jwtIntrospectPerRound * settings.rounds) {
      throw new Error('not enough kit tokens for jwt-cold introspect mode');
    }

    const base = {
      issuer: zitadel.issuer,
      apiKeyPath: zitadel.apiKeyPath,
      projectId: zitadel.projectId,
      buildDir,
      jwksUri: jwtIssuer.jwksUri,
      introspectionEndpoint: `${zitadel.issuer}/oauth/v2/introspect`,
    };
    const redisUrl = 'url' in redis ? redis.url : undefined;
    if (!redisUrl) log(`redis-hit skipped: ${'skipped' in redis ? redis.skipped : ''}`);
    const plan: [HttpVariant | 'cold-burst', ServerVariant][] = [
      ['baseline', 'baseline'],
      ['empty-layer', 'empty-layer'],
      ['same-shape', 'same-shape'],
      ['hit', 'hit'],
      ['hit-telemetry', 'hit-telemetry'],
      ['jwt-hit', 'jwt-local'],
      ['hit-many', 'hit'],
      ['no-cache', 'no-cache'],
      ...(redisUrl ? [['redis-hit', 'redis-hit'] as [HttpVariant, ServerVariant]] : []),
      ['cold-burst', 'hit'],
    ];
    const coldPlan: [string, ServerVariant][] = [
      ['jwt-cold-local', 'jwt-local'],
      ['jwt-cold-introspect', 'jwt-introspect'],
    ];
    const servers = new Map<string, Server>();
    for (const server of await Promise.all(
      [...plan, ...coldPlan].map(([name, variant]) =>
        startServer(name, { ...base, variant, redisUrl }),
      ),
    )) {
      servers.set(server.name, server);
    }
    // One token would let single-flight share most Redis reads: the store gets many, like hit-many.
    const many = new Set<string>(['hit-many', 'no-cache', 'redis-hit']);
    const tokensOf = (name: HttpVariant) =>
      many.has(name) ? manyTokens : name === 'jwt-hit' ? [jwtHitToken] : [hitToken];
    const jwtRuns = { local: [] as LoadResult[], introspect: [] as LoadResult[] };
    const jwtCalls = { local: 0, introspect: 0 };

    for (const name of ['hit-many', 'redis-hit'].filter((name) => servers.has(name))) {
      log(`warming ${manyTokens.length} tokens in the ${name} server`);
      await warm(servers.get(name)!, manyTokens);
    }

    const runs = new Map<HttpVariant, LoadResult[]>();
    // The introspector's counters while measured (a warm cache makes no calls).
    const statsDuringRuns = new Map<HttpVariant, Record<string, number>>();
    const coldBurst: BurstRound[] = [];
    const order = report.HTTP_VARIANTS.filter((name) => servers.has(name));
    for (let round = 0; round < settings.rounds; round++) {
      // Interleaved, and reversed every other round, so no variant always runs first.
      for (const name of round % 2 ? [...order].reverse() : order) {
        const server = servers.get(name)!;
        const result = await measure(zitadel, server, tokensOf(name), name === 'no-cache');
        runs.set(name, [...(runs.get(name) ?? []), result.load]);
        statsDuringRuns.set(name, addUp(statsDuringRuns.get(name), result.stats));
        log(`round ${round + 1} ${name}: ${Math.round(result.load.rps)} req/s`);
      }
      for (const mode of round % 2
        ? (['introspect', 'local'] as const)
        : (['local', 'introspect'] as const)) {
        const tokens =
          mode === 'local'
            ? jwtTokens.slice(round * jwtLocalPerRound, (round + 1) * jwtLocalPerRound)
            : introspectTokens.slice(
                round * settings.jwtIntrospectPerRound,
                (round + 1) * settings.jwtIntrospectPerRound,
              );
        const server = servers.get(`jwt-cold-${mode}`)!;
        const { result, calls } = await coldRun(zitadel, server, tokens);
        jwtRuns[mode].push(result);
        jwtCalls[mode] += calls;
        log(
          `round ${round + 1} jwt-cold ${mode}: ${Math.round(result.rps)} req/s over ${tokens.length} new tokens, ${calls} introspection call(s)`,
        );
      }
      const cold = await coldBurstRound(zitadel, servers.get('cold-burst')!, burstTokens[round]);
      coldBurst.push(cold);
      log(
        `round ${round + 1} cold-burst: ${cold.introspections} call(s), ${cold.ms.toFixed(0)} ms`,
      );
    }

    log('micro benchmarks (child process with --expose-gc)');
    const microResult = await runMicro({
      ...micro,
      issuer: zitadel.issuer,
      apiKeyPath: zitadel.apiKeyPath,
      token: microToken,
      buildDir,
    });
    await Promise.all([...servers.values()].map((server) => stopChild(server.child)));

    let fleet: BenchResults['fleet'] = { skipped: 'skipped' in redis ? redis.skipped : 'no Redis' };
    if (redisUrl) {
      log(
        `fleet: ${settings.fleet.replicas} replica processes, ${settings.fleet.tokens} new tokens, ${settings.fleet.trials} eviction and webhook trials`,
      );
      fleet = await runFleet(zitadel, {
        redisUrl,
        buildDir,
        tokens: manyTokens.slice(0, settings.fleet.tokens),
        settings: settings.fleet,
      });
      log(
        `fleet: ${fleet.callsPerToken.toFixed(3)} calls per token, p99 ${fleet.latencyP99Ms.toFixed(0)} ms; evict p99 ${fleet.evictP99Ms.toFixed(1)} ms; webhook p50/p99 ${fleet.webhookP50Ms.toFixed(1)}/${fleet.webhookP99Ms.toFixed(1)} ms`,
      );
    }
    const steadyStream = redisUrl
      ? await runSteadyStream(zitadel, {
          redisUrl,
          buildDir,
          token: hitToken,
          ttls: settings.steadyStreamTtls,
        })
      : { skipped: 'no Redis' };
    if ('skipped' in steadyStream) log(`steady-stream skipped: ${steadyStream.skipped}`);

    const variants = Object.fromEntries(
      report.HTTP_VARIANTS.map((name): [HttpVariant, VariantResult] => {
        const rounds = runs.get(name);
        if (!rounds) return [name, { skipped: 'skipped' in redis ? redis.skipped : 'no Redis' }];
        return [
          name,
          {
            rps: median(rounds.map((r) => r.rps)),
            latencyP50Ms: median(rounds.map((r) => r.latencyP50Ms)),
            latencyP99Ms: median(rounds.map((r) => r.latencyP99Ms)),
            serverCpuMicrosPerRequest: median(
              rounds.map((r) => r.serverCpuMicrosPerRequest ?? NaN),
            ),
            rounds,
            statsDuringRuns: statsDuringRuns.get(name),
          },
        ];
      }),
    ) as Record<HttpVariant, VariantResult>;
    const partial: Omit<BenchResults, 'targets'> = {
      date: new Date().toISOString(),
      quick,
      machine: report.machineInfo(),
      loadAverageAtStart,
      settings: {
        rounds: settings.rounds,
        durationSeconds: settings.durationSeconds,
        connections: settings.connections,
        tokens: settings.tokens,
        burstSize: settings.burstSize,
        issuerLatencyMs: settings.issuerLatencyMs,
      },
      variants,
      coldBurst: {
        rounds: coldBurst,
        medianMs: median(coldBurst.map((r) => r.ms)),
        maxIntrospections: Math.max(...coldBurst.map((r) => r.introspections)),
      },
      micro: microResult,
      jwtCold: {
        tokensPerRound: { local: jwtLocalPerRound, introspect: settings.jwtIntrospectPerRound },
        issuerLatencyMs: settings.slowIssuerMs,
        local: coldMode(jwtRuns.local, jwtCalls.local),
        introspect: coldMode(jwtRuns.introspect, jwtCalls.introspect),
      },
      fleet,
      steadyStream,
    };
    const results: BenchResults = { ...partial, targets: report.verdicts(partial) };
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${formatText(results)}\n`);
    for (const name of ['hit', 'hit-many', 'redis-hit'] as const) {
      const calls = statsDuringRuns.get(name)?.introspections;
      if (calls) console.warn(`warning: ${name} made ${calls} introspection calls while measured`);
    }
    if (profileDir) console.log(`CPU profiles (one per server pid): ${profileDir}`);
    log(`done; results in ${resultsFile}`);
  } finally {
    await zitadel.close();
    await jwtIssuer.close();
    if ('stop' in redis) await redis.stop();
  }
}

async function startServer(name: string, config: ServerConfig): Promise<Server> {
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = forkScript('server', config, flags);
  const { port } = await nextMessage(child, 'ready', 30_000);
  if (profileDir) console.log(`server ${name}: pid ${child.pid}`);
  return { name, child, port };
}

async function stats(server: Server): Promise<Record<string, number>> {
  const answer = nextMessage(server.child, 'stats', 10_000);
  server.child.send({ type: 'stats' });
  return (await answer).stats;
}

/** Sends every token once and checks that all were answered 2xx. */
async function warm(server: Server, tokens: readonly string[]): Promise<void> {
  const result = await load({
    port: server.port,
    tokens,
    connections: settings.connections,
    amount: tokens.length,
  });
  if (result.failures)
    throw new Error(`${server.name}: ${result.failures} failed warm-up requests`);
}

/** Warm-up, then the measured run, with the server's counters (and CPU time) meanwhile. */
async function measure(
  zitadel: LocalZitadel,
  server: Server,
  tokens: readonly string[],
  slowIssuer: boolean,
): Promise<{ load: LoadResult; stats: Record<string, number> }> {
  if (slowIssuer) await zitadel.setLatency(settings.issuerLatencyMs);
  try {
    const connections = settings.connections;
    // Many tokens: one pass over all of them (re-fills anything that expired meanwhile).
    if (tokens.length > 1 && !slowIssuer) await warm(server, tokens);
    else await load({ port: server.port, tokens, connections, duration: settings.warmupSeconds });
    const before = await stats(server);
    const result = await load({
      port: server.port,
      tokens,
      connections,
      duration: settings.durationSeconds,
    });
    const after = await stats(server);
    if (result.failures)
      console.warn(`warning: ${server.name}: ${result.failures} failed requests`);
    const { cpuMicros, ...counters } = addUp(after, before, -1);
    result.serverCpuMicrosPerRequest = cpuMicros / result.requests;
    return { load: result, stats: counters };
  } finally {
    if (slowIssuer) await zitadel.setLatency(0);
  }
}

async function coldBurstRound(
  zitadel: LocalZitadel,
  server: Server,
  token: string,
): Promise<BurstRound> {
  await zitadel.setLatency(settings.issuerLatencyMs);
  try {
    const before = await stats(server);
    const { ms, statuses } = await burst(server.port, token, settings.burstSize);
    const after = await stats(server);
    const delta = (key: string) => after[key] - before[key];
    return {
      ms,
      introspections: delta('introspections'),
      coalesced: delta('coalesced'),
      hits: delta('hits'),
      statuses,
    };
  } finally {
    await zitadel.setLatency(0);
  }
}

/** Every token once (ZITADEL slow), with the local ZITADEL's introspection calls meanwhile. */
async function coldRun(
  zitadel: LocalZitadel,
  server: Server,
  tokens: readonly string[],
): Promise<{ result: LoadResult; calls: number }> {
  await zitadel.setLatency(settings.slowIssuerMs);
  try {
    await zitadel.resetCalls();
    const before = await stats(server);
    const result = await load({
      port: server.port,
      tokens,
      connections: settings.connections,
      amount: tokens.length,
    });
    const after = await stats(server);
    result.serverCpuMicrosPerRequest = (after.cpuMicros - before.cpuMicros) / result.requests;
    if (result.failures)
      console.warn(`warning: ${server.name}: ${result.failures} failed requests`);
    return { result, calls: (await zitadel.calls()).introspection };
  } finally {
    await zitadel.setLatency(0);
  }
}

function coldMode(rounds: LoadResult[], calls: number): BenchResults['jwtCold']['local'] {
  return {
    rps: median(rounds.map((r) => r.rps)),
    latencyP99Ms: median(rounds.map((r) => r.latencyP99Ms)),
    introspectionCalls: calls,
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
    rounds,
  };
}

async function runMicro(config: MicroConfig): Promise<MicroResult> {
  const child = forkScript('micro', config, ['--expose-gc']);
  try {
    return (await nextMessage(child, 'result', 300_000)).result as MicroResult;
  } finally {
    await stopChild(child);
  }
}

/** `a + sign × b`, key by key (counters of two stats snapshots). */
function addUp(
  a: Record<string, number> = {},
  b: Record<string, number>,
  sign = 1,
): Record<string, number> {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + sign * value;
  return sum;
}
