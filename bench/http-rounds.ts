/**
 * The HTTP variants' rounds: each variant's server loaded by autocannon for
 * a fixed time after a warm-up, with the server's counters and CPU time
 * meanwhile; then the medians over rounds.
 */
import type { LocalZitadel } from '../lib/testing';
import { addUp, serverStats, type Server } from './bench-servers';
import { load, type LoadResult } from './load';
import { HTTP_VARIANTS, type HttpVariant, type VariantResult } from './report';
import { settings } from './settings';
import { median } from './stats';

/**
 * The measured runs so far, and the introspector's counters while measured
 * (a warm cache makes no calls).
 *
 * @example
 * ```ts
 * const http: HttpRuns = { runs: new Map(), statsDuringRuns: new Map() };
 * ```
 */
export interface HttpRuns {
  runs: Map<HttpVariant, LoadResult[]>;
  statsDuringRuns: Map<HttpVariant, Record<string, number>>;
}

/**
 * One round over every variant in `order`, reversed every other round so no
 * variant always runs first.
 *
 * @example
 * ```ts
 * await httpRound({ zitadel, servers, order, tokensOf, round, log }, http);
 * ```
 */
export async function httpRound(
  context: {
    zitadel: LocalZitadel;
    servers: Map<string, Server>;
    order: readonly HttpVariant[];
    tokensOf: (name: HttpVariant) => readonly string[];
    round: number;
    log: (message: string) => void;
  },
  into: HttpRuns,
): Promise<void> {
  const { zitadel, servers, order, tokensOf, round, log } = context;
  for (const name of round % 2 ? [...order].reverse() : order) {
    const server = servers.get(name)!;
    const result = await measure(zitadel, server, tokensOf(name), name === 'no-cache');
    into.runs.set(name, [...(into.runs.get(name) ?? []), result.load]);
    into.statsDuringRuns.set(name, addUp(into.statsDuringRuns.get(name), result.stats));
    log(`round ${round + 1} ${name}: ${Math.round(result.load.rps)} req/s`);
  }
}

/**
 * Sends every token once and checks that all were answered 2xx.
 *
 * @example
 * ```ts
 * await warm(servers.get('hit-many')!, manyTokens);
 * ```
 */
export async function warm(server: Server, tokens: readonly string[]): Promise<void> {
  const result = await load({
    port: server.port,
    tokens,
    connections: settings.connections,
    amount: tokens.length,
  });
  if (result.failures)
    throw new Error(`${server.name}: ${result.failures} failed warm-up requests`);
}

/**
 * Every HTTP variant's medians over its rounds (`skipped` where it has none).
 *
 * @example
 * ```ts
 * const variants = variantResults(http, 'no Redis');
 * ```
 */
export function variantResults(
  { runs, statsDuringRuns }: HttpRuns,
  skipped: string,
): Record<HttpVariant, VariantResult> {
  return Object.fromEntries(
    HTTP_VARIANTS.map((name): [HttpVariant, VariantResult] => {
      const rounds = runs.get(name);
      if (!rounds) return [name, { skipped }];
      return [
        name,
        {
          rps: median(rounds.map((r) => r.rps)),
          latencyP50Ms: median(rounds.map((r) => r.latencyP50Ms)),
          latencyP99Ms: median(rounds.map((r) => r.latencyP99Ms)),
          serverCpuMicrosPerRequest: median(rounds.map((r) => r.serverCpuMicrosPerRequest ?? NaN)),
          rounds,
          statsDuringRuns: statsDuringRuns.get(name),
        },
      ];
    }),
  ) as Record<HttpVariant, VariantResult>;
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
    const before = await serverStats(server);
    const result = await load({
      port: server.port,
      tokens,
      connections,
      duration: settings.durationSeconds,
    });
    const after = await serverStats(server);
    if (result.failures)
      console.warn(`warning: ${server.name}: ${result.failures} failed requests`);
    const { cpuMicros, ...counters } = addUp(after, before, -1);
    result.serverCpuMicrosPerRequest = cpuMicros / result.requests;
    return { load: result, stats: counters };
  } finally {
    if (slowIssuer) await zitadel.setLatency(0);
  }
}
