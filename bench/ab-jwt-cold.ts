/**
 * An ad-hoc A/B driver for jwt-cold alone (not part of `npm run bench`):
 * only what jwt-cold needs — the kit (compiled package), the bench's JWT
 * issuer, the jwt-local and jwt-introspect servers — and interleaved rounds
 * (local, introspect, then swapped) with small counts, plus a jwt-hit run of
 * the same local server per round as the ceiling a cold request can reach.
 *
 * Usage: `npx tsx bench/ab-jwt-cold.ts [--rounds 4] [--local 5000]
 * [--introspect 300] [--hit 3] [--old-build DIR] [--profile]` (`--profile`: the servers run with
 * `--cpu-prof`; summarize with bench/profile-summary.ts).
 */
import { startServers, serverStats, type Server } from './bench-servers';
import { numberFlag, withJwtBench } from './jwt-script';
import { load, type LoadResult } from './load';
import { runScript, stopChild } from './processes';
import { profileDir, settings } from './settings';
import { median } from './stats';
import { mintTokens } from './tokens';

const ROUNDS = numberFlag('--rounds', 4);
const LOCAL = numberFlag('--local', 5000);
const INTROSPECT = numberFlag('--introspect', 300);
/** Seconds of jwt-hit per round (0: none, e.g. for a profile of cold requests only). */
const HIT_SECONDS = numberFlag('--hit', 3);
/** Another compiled package (e.g. main's lib/, built by tsc) run as a third mode, `local-old`. */
const argv = process.argv.slice(2);
const OLD_BUILD = argv.includes('--old-build') ? argv[argv.indexOf('--old-build') + 1] : undefined;

type Mode = 'local' | 'local-old' | 'introspect';

runScript(main);

async function main(): Promise<void> {
  await withJwtBench(async ({ buildDir, zitadel, issuer }) => {
    const kitTokens = await mintTokens(zitadel, INTROSPECT * ROUNDS);
    const localModes: Mode[] = OLD_BUILD ? ['local', 'local-old'] : ['local'];
    const [hitToken, ...jwts] = await issuer.mint(LOCAL * ROUNDS * localModes.length + 1);
    const base = {
      issuer: zitadel.issuer,
      apiKeyPath: zitadel.apiKeyPath,
      projectId: zitadel.projectId,
      buildDir,
      jwksUri: issuer.jwksUri,
      introspectionEndpoint: `${zitadel.issuer}/oauth/v2/introspect`,
    };
    const servers = await startServers(
      [
        ['local', 'jwt-local'],
        ['introspect', 'jwt-introspect'],
      ],
      base,
    );
    if (OLD_BUILD) {
      const old = await startServers([['local-old', 'jwt-local']], {
        ...base,
        buildDir: OLD_BUILD,
      });
      servers.set('local-old', old.get('local-old')!);
    }
    const modes: Mode[] = [...localModes, 'introspect'];
    const runs = new Map<Mode | 'hit', LoadResult[]>(
      [...modes, 'hit' as const].map((m) => [m, []]),
    );
    let nextJwt = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated every round, so no mode always runs first.
      const order = modes.map((_, i) => modes[(i + round) % modes.length]);
      for (const mode of order) {
        const tokens =
          mode === 'introspect'
            ? kitTokens.slice(round * INTROSPECT, (round + 1) * INTROSPECT)
            : jwts.slice(nextJwt, (nextJwt += LOCAL));
        const result = await cold(zitadel, servers.get(mode)!, tokens);
        runs.get(mode)!.push(result);
        console.log(
          `round ${round + 1} ${mode}: ${Math.round(result.rps)} req/s, p99 ${result.latencyP99Ms} ms, ` +
            `${Math.round(result.serverCpuMicrosPerRequest!)} µs server CPU/request (client ${Math.round(result.clientCpuMicrosPerRequest)}), ${result.failures} failures`,
        );
      }
      if (!HIT_SECONDS) continue;
      const hit = await measured(servers.get('local')!, () =>
        load({
          port: servers.get('local')!.port,
          tokens: [hitToken],
          connections: settings.connections,
          duration: HIT_SECONDS,
        }),
      );
      runs.get('hit')!.push(hit);
      console.log(
        `round ${round + 1} jwt-hit: ${Math.round(hit.rps)} req/s, ${Math.round(hit.serverCpuMicrosPerRequest!)} µs server CPU/request`,
      );
    }
    const introspect = runs.get('introspect')!;
    for (const mode of [...localModes, 'hit' as const]) {
      const rounds = runs.get(mode)!;
      if (!rounds.length) continue;
      const rps = median(rounds.map((r) => r.rps));
      const cpu = median(rounds.map((r) => r.serverCpuMicrosPerRequest!));
      const ratios = rounds.map((r, i) => (r.rps / introspect[i].rps).toFixed(1));
      console.log(
        `median ${mode}: ${Math.round(rps)} req/s, ${Math.round(cpu)} µs server CPU/request, ` +
          `${(rps / median(introspect.map((r) => r.rps))).toFixed(1)}× introspect (per round ${ratios.join(', ')})`,
      );
    }
    console.log(
      `median introspect: ${Math.round(median(introspect.map((r) => r.rps)))} req/s, ` +
        `${Math.round(median(introspect.map((r) => r.serverCpuMicrosPerRequest!)))} µs server CPU/request`,
    );
    await Promise.all([...servers.values()].map((server) => stopChild(server.child)));
    if (profileDir) console.log(`CPU profiles: ${profileDir}`);
  });
}

async function cold(
  zitadel: { setLatency(ms: number): Promise<void> },
  server: Server,
  tokens: readonly string[],
): Promise<LoadResult & { clientCpuMicrosPerRequest: number }> {
  await zitadel.setLatency(settings.slowIssuerMs);
  try {
    return await measured(server, () =>
      load({ port: server.port, tokens, connections: settings.connections, amount: tokens.length }),
    );
  } finally {
    await zitadel.setLatency(0);
  }
}

async function measured(
  server: Server,
  run: () => Promise<LoadResult>,
): Promise<LoadResult & { clientCpuMicrosPerRequest: number }> {
  const before = await serverStats(server);
  const clientBefore = process.cpuUsage();
  const result = await run();
  const client = process.cpuUsage(clientBefore);
  const after = await serverStats(server);
  result.serverCpuMicrosPerRequest = (after.cpuMicros - before.cpuMicros) / result.requests;
  return { ...result, clientCpuMicrosPerRequest: (client.user + client.system) / result.requests };
}
