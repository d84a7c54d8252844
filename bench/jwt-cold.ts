/**
 * jwt-cold: distinct tokens, each used once, ZITADEL slow — the jwt-local
 * server verifying self-minted JWTs locally vs the jwt-introspect server
 * introspecting kit tokens ZITADEL knows; the local ZITADEL's introspection
 * calls counted per mode.
 */
import type { LocalZitadel } from '../lib/testing';
import { serverStats, type Server } from './bench-servers';
import { load, type LoadResult } from './load';
import type { JwtColdMode, JwtColdResult } from './report';
import { settings } from './settings';
import { median } from './stats';

/**
 * The two modes' runs and introspection calls so far, and their token pools.
 *
 * @example
 * ```ts
 * const jwtCold = jwtColdRuns(jwtTokens, pool);
 * ```
 */
export interface JwtColdRuns {
  local: LoadResult[];
  introspect: LoadResult[];
  calls: { local: number; introspect: number };
  tokensPerRound: { local: number; introspect: number };
  tokens: { local: readonly string[]; introspect: readonly string[] };
}

/**
 * Empty runs over the token pools: `jwts` split evenly over the rounds, and
 * `jwtIntrospectPerRound` of the kit's tokens per round.
 *
 * @example
 * ```ts
 * const jwtCold = jwtColdRuns(await jwtIssuer.mint(settings.jwtTokens), pool);
 * ```
 */
export function jwtColdRuns(jwts: readonly string[], kitTokens: readonly string[]): JwtColdRuns {
  const perRound = {
    local: Math.floor(settings.jwtTokens / settings.rounds),
    introspect: settings.jwtIntrospectPerRound,
  };
  // Introspect mode needs tokens ZITADEL knows: the kit's, fresh to that server.
  const introspect = kitTokens.slice(0, perRound.introspect * settings.rounds);
  if (introspect.length < perRound.introspect * settings.rounds) {
    throw new Error('not enough kit tokens for jwt-cold introspect mode');
  }
  return {
    local: [],
    introspect: [],
    calls: { local: 0, introspect: 0 },
    tokensPerRound: perRound,
    tokens: { local: jwts, introspect },
  };
}

/**
 * One round of both modes (order swapped every other round), each on its
 * round's slice of new tokens.
 *
 * @example
 * ```ts
 * await jwtColdRound(zitadel, servers, round, jwtCold, log);
 * ```
 */
export async function jwtColdRound(
  zitadel: LocalZitadel,
  servers: Map<string, Server>,
  round: number,
  into: JwtColdRuns,
  log: (message: string) => void,
): Promise<void> {
  for (const mode of round % 2
    ? (['introspect', 'local'] as const)
    : (['local', 'introspect'] as const)) {
    const perRound = into.tokensPerRound[mode];
    const tokens = into.tokens[mode].slice(round * perRound, (round + 1) * perRound);
    const server = servers.get(`jwt-cold-${mode}`)!;
    const { result, calls } = await coldRun(zitadel, server, tokens);
    into[mode].push(result);
    into.calls[mode] += calls;
    log(
      `round ${round + 1} jwt-cold ${mode}: ${Math.round(result.rps)} req/s over ${tokens.length} new tokens, ${calls} introspection call(s)`,
    );
  }
}

/**
 * The medians over rounds of both modes, for bench/results.json.
 *
 * @example
 * ```ts
 * results.jwtCold = jwtColdResult(jwtCold);
 * ```
 */
export function jwtColdResult(runs: JwtColdRuns): JwtColdResult {
  return {
    tokensPerRound: runs.tokensPerRound,
    issuerLatencyMs: settings.slowIssuerMs,
    local: coldMode(runs.local, runs.calls.local),
    introspect: coldMode(runs.introspect, runs.calls.introspect),
  };
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
    const before = await serverStats(server);
    const result = await load({
      port: server.port,
      tokens,
      connections: settings.connections,
      amount: tokens.length,
    });
    const after = await serverStats(server);
    result.serverCpuMicrosPerRequest = (after.cpuMicros - before.cpuMicros) / result.requests;
    if (result.failures)
      console.warn(`warning: ${server.name}: ${result.failures} failed requests`);
    return { result, calls: (await zitadel.calls()).introspection };
  } finally {
    await zitadel.setLatency(0);
  }
}

function coldMode(rounds: LoadResult[], calls: number): JwtColdMode {
  return {
    rps: median(rounds.map((r) => r.rps)),
    latencyP99Ms: median(rounds.map((r) => r.latencyP99Ms)),
    introspectionCalls: calls,
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
    rounds,
  };
}
