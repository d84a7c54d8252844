/**
 * cold-burst: `burstSize` concurrent requests with one fresh token, ZITADEL
 * slowed, against the hit server — single-flight should make one call.
 */
import type { LocalZitadel } from '../lib/testing';
import { serverStats, type Server } from './bench-servers';
import { burst } from './load';
import type { BenchResults, BurstRound } from './report';
import { settings } from './settings';
import { median } from './stats';

/**
 * One burst, with the server's introspections, coalesced calls and hits meanwhile.
 *
 * @example
 * ```ts
 * coldBurst.push(await coldBurstRound(zitadel, servers.get('cold-burst')!, token));
 * ```
 */
export async function coldBurstRound(
  zitadel: LocalZitadel,
  server: Server,
  token: string,
): Promise<BurstRound> {
  await zitadel.setLatency(settings.issuerLatencyMs);
  try {
    const before = await serverStats(server);
    const { ms, statuses } = await burst(server.port, token, settings.burstSize);
    const after = await serverStats(server);
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

/**
 * The bursts with their median time and most introspection calls in one burst.
 *
 * @example
 * ```ts
 * results.coldBurst = coldBurstResult(coldBurst);
 * ```
 */
export function coldBurstResult(rounds: BurstRound[]): BenchResults['coldBurst'] {
  return {
    rounds,
    medianMs: median(rounds.map((r) => r.ms)),
    maxIntrospections: Math.max(...rounds.map((r) => r.introspections)),
  };
}
