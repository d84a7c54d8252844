/**
 * The `steady-stream` bench (issue 11): one hot token across cache-TTL
 * rollovers on a fleet of replicas, ZITADEL 500 ms slow — p99 latency and
 * introspection calls per TTL per fleet (target 1: refresh-ahead renews the
 * answer before it expires, once for the whole fleet, so no request waits).
 * Runs only where `cache.refreshAheadSeconds` exists (lib/options.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalZitadel } from '../lib/testing';
import { load } from './load';
import { startReplica } from './fleet';
import { stopChild } from './processes';

/**
 * What the steady stream measured, or why it did not run.
 *
 * @example
 * ```ts
 * const stream = await runSteadyStream(zitadel, options);
 * if ('skipped' in stream) console.log(stream.skipped);
 * ```
 */
export type SteadyStreamResult =
  | {
      ttls: number;
      introspectionCalls: number;
      callsPerTtl: number;
      /**
       * Calls per entry lifetime: a refresh starts `refreshAheadSeconds`
       * before expiry and its answer lands `latency` later, so one lifetime
       * is TTL − refresh-ahead + latency (1.5 s here), not a whole TTL.
       */
      callsPerLifetime?: number;
      latencyP99Ms: number;
    }
  | { skipped: string };

/**
 * `undefined` when refresh-ahead exists on this branch, else why the stream is skipped.
 *
 * @example
 * ```ts
 * const reason = steadyStreamSkipReason();
 * ```
 */
export function steadyStreamSkipReason(): string | undefined {
  const options = readFileSync(join(__dirname, '..', 'lib', 'options.ts'), 'utf8');
  return options.includes('refreshAheadSeconds')
    ? undefined
    : 'cache.refreshAheadSeconds does not exist in lib/options.ts on this branch (refresh-ahead is on fleet-flow)';
}

/**
 * Two replicas, a 2 s cache TTL refreshed 1 s ahead, one hot token for `ttls` TTLs.
 *
 * @example
 * ```ts
 * await runSteadyStream(zitadel, { redisUrl, buildDir, token, ttls: 5 });
 * ```
 */
const REFRESH_AHEAD_SECONDS = 1;
const LATENCY_MS = 500;

export async function runSteadyStream(
  zitadel: LocalZitadel,
  options: { redisUrl: string; buildDir: string; token: string; ttls: number },
): Promise<SteadyStreamResult> {
  const skipped = steadyStreamSkipReason();
  if (skipped) return { skipped };
  const ttlSeconds = 2;
  // One prefix for both: the replicas must be one fleet (Date.now() per replica could differ).
  const prefix = `bench-stream-${Date.now()}:`;
  const replicas = await Promise.all(
    [0, 1].map((index) =>
      startReplica({
        index,
        issuer: zitadel.issuer,
        apiKeyPath: zitadel.apiKeyPath,
        projectId: zitadel.projectId,
        redisUrl: options.redisUrl,
        prefix,
        maxTtlSeconds: ttlSeconds,
        refreshAheadSeconds: REFRESH_AHEAD_SECONDS,
        buildDir: options.buildDir,
      }),
    ),
  );
  try {
    await zitadel.setLatency(LATENCY_MS);
    await Promise.all(
      replicas.map((r) =>
        load({ port: r.port, tokens: [options.token], connections: 1, amount: 1 }),
      ),
    );
    await zitadel.resetCalls();
    const runs = await Promise.all(
      replicas.map((r) =>
        load({
          port: r.port,
          tokens: [options.token],
          connections: 10,
          duration: options.ttls * ttlSeconds,
        }),
      ),
    );
    const calls = (await zitadel.calls()).introspection;
    const lifetimeSeconds = ttlSeconds - REFRESH_AHEAD_SECONDS + LATENCY_MS / 1000;
    return {
      ttls: options.ttls,
      introspectionCalls: calls,
      callsPerTtl: calls / options.ttls,
      callsPerLifetime: calls / ((options.ttls * ttlSeconds) / lifetimeSeconds),
      latencyP99Ms: Math.max(...runs.map((run) => run.latencyP99Ms)),
    };
  } finally {
    await zitadel.setLatency(0);
    await Promise.all(replicas.map((r) => stopChild(r.child)));
  }
}
