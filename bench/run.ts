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
 *
 * The parts live in their own files: settings.ts (the flags), bench-servers.ts
 * (the servers under test), http-rounds.ts, jwt-cold.ts, cold-burst.ts,
 * micro-run.ts, fleet.ts, steady-stream.ts; targets.ts judges the results.
 */
import { writeFileSync } from 'node:fs';
import { startServers } from './bench-servers';
import { compilePackage, loadPackage } from './build';
import { coldBurstResult, coldBurstRound } from './cold-burst';
import { runFleet } from './fleet';
import { formatText } from './format';
import { runHitPairs } from './hit-pair';
import { httpRound, variantResults, warm, type HttpRuns } from './http-rounds';
import { jwtColdResult, jwtColdRound, jwtColdRuns } from './jwt-cold';
import { startJwtIssuer } from './jwt-tokens';
import { currentLoad, machineInfo } from './machine';
import { runMicro } from './micro-run';
import { installCleanup, runScript, startRedis, stopChild } from './processes';
import { HTTP_VARIANTS, type BenchResults, type BurstRound, type HttpVariant } from './report';
import type { ServerVariant } from './server';
import { microSettings, profileDir, quick, resultsFile, settings } from './settings';
import { runSteadyStream } from './steady-stream';
import { verdicts } from './targets';
import { mintTokens } from './tokens';

runScript(main, 'bench');

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const loadAverageAtStart = currentLoad();
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
    const jwtCold = jwtColdRuns(jwtTokens, pool);

    const redisUrl = 'url' in redis ? redis.url : undefined;
    const skipped = 'skipped' in redis ? redis.skipped : 'no Redis';
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
      // hit-pair.ts's A/A control: a second process of the same-shape server.
      ['same-shape-control', 'same-shape'],
    ];
    const servers = await startServers([...plan, ...coldPlan], {
      issuer: zitadel.issuer,
      apiKeyPath: zitadel.apiKeyPath,
      projectId: zitadel.projectId,
      buildDir,
      jwksUri: jwtIssuer.jwksUri,
      introspectionEndpoint: `${zitadel.issuer}/oauth/v2/introspect`,
      redisUrl,
    });
    // One token would let single-flight share most Redis reads: the store gets many, like hit-many.
    const many = new Set<string>(['hit-many', 'no-cache', 'redis-hit']);
    const tokensOf = (name: HttpVariant) =>
      many.has(name) ? manyTokens : name === 'jwt-hit' ? [jwtHitToken] : [hitToken];

    for (const name of ['hit-many', 'redis-hit'].filter((name) => servers.has(name))) {
      log(`warming ${manyTokens.length} tokens in the ${name} server`);
      await warm(servers.get(name)!, manyTokens);
    }

    const http: HttpRuns = { runs: new Map(), statsDuringRuns: new Map() };
    const coldBurst: BurstRound[] = [];
    const order = HTTP_VARIANTS.filter((name) => servers.has(name));
    for (let round = 0; round < settings.rounds; round++) {
      // Interleaved, and reversed every other round, so no variant always runs first.
      await httpRound({ zitadel, servers, order, tokensOf, round, log }, http);
      await jwtColdRound(zitadel, servers, round, jwtCold, log);
      const cold = await coldBurstRound(zitadel, servers.get('cold-burst')!, burstTokens[round]);
      coldBurst.push(cold);
      log(
        `round ${round + 1} cold-burst: ${cold.introspections} call(s), ${cold.ms.toFixed(0)} ms`,
      );
    }

    log(
      `hit / same-shape in ${settings.hitPairs.pairs} back-to-back pairs of ${settings.hitPairs.seconds} s`,
    );
    const hitPairs = await runHitPairs(
      {
        hit: servers.get('hit')!,
        sameShape: servers.get('same-shape')!,
        control: servers.get('same-shape-control')!,
      },
      hitToken,
      settings.hitPairs,
    );

    log('micro benchmarks (child process with --expose-gc)');
    const microResult = await runMicro({
      ...microSettings,
      issuer: zitadel.issuer,
      apiKeyPath: zitadel.apiKeyPath,
      token: microToken,
      buildDir,
    });
    await Promise.all([...servers.values()].map((server) => stopChild(server.child)));

    let fleet: BenchResults['fleet'] = { skipped };
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

    const partial: Omit<BenchResults, 'targets'> = {
      date: new Date().toISOString(),
      quick,
      machine: machineInfo(),
      loadAverageAtStart,
      settings: {
        rounds: settings.rounds,
        durationSeconds: settings.durationSeconds,
        connections: settings.connections,
        tokens: settings.tokens,
        burstSize: settings.burstSize,
        issuerLatencyMs: settings.issuerLatencyMs,
      },
      variants: variantResults(http, skipped),
      hitPairs,
      coldBurst: coldBurstResult(coldBurst),
      micro: microResult,
      jwtCold: jwtColdResult(jwtCold),
      fleet,
      steadyStream,
    };
    const results: BenchResults = { ...partial, targets: verdicts(partial) };
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${formatText(results)}\n`);
    for (const name of ['hit', 'hit-many', 'redis-hit'] as const) {
      // Entries last the whole run (server.ts): any call is a miss or a refresh-ahead.
      const { introspections = 0, refreshes = 0 } = http.statsDuringRuns.get(name) ?? {};
      if (introspections) {
        console.warn(
          `warning: ${name} made ${introspections} introspection calls while measured (${refreshes} refresh-ahead)`,
        );
      }
    }
    if (profileDir) console.log(`CPU profiles (one per server pid): ${profileDir}`);
    log(`done; results in ${resultsFile}`);
  } finally {
    await zitadel.close();
    await jwtIssuer.close();
    if ('stop' in redis) await redis.stop();
  }
}
