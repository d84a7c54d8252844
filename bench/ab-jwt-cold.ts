/**
 * An ad-hoc A/B driver for jwt-cold alone (not part of `npm run bench`):
 * only what jwt-cold needs — the kit (compiled package), the bench's JWT
 * issuer, the jwt-local and jwt-introspect servers — and interleaved rounds
 * (local, introspect, then swapped) with small counts, plus a jwt-hit run of
 * the same local server per round as the ceiling a cold request can reach.
 *
 * Usage: `npx tsx bench/ab-jwt-cold.ts [--rounds 4] [--local 5000]
 * [--introspect 300] [--profile]` (`--profile`: the servers run with
 * `--cpu-prof`; summarize with bench/profile-summary.ts).
 */
import { startServers, serverStats, type Server } from './bench-servers';
import { compilePackage, loadPackage } from './build';
import { startJwtIssuer } from './jwt-tokens';
import { load, type LoadResult } from './load';
import { installCleanup, stopChild } from './processes';
import { profileDir, settings } from './settings';
import { median } from './stats';
import { mintTokens } from './tokens';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const ROUNDS = flag('--rounds', 4);
const LOCAL = flag('--local', 5000);
const INTROSPECT = flag('--introspect', 300);
/** Seconds of jwt-hit per round (0: none, e.g. for a profile of cold requests only). */
const HIT_SECONDS = flag('--hit', 3);

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);

async function main(): Promise<void> {
  installCleanup();
  const buildDir = compilePackage();
  const { startLocalZitadel } = loadPackage<typeof import('../lib/testing')>(
    buildDir,
    'testing/index',
  );
  const zitadel = await startLocalZitadel();
  const issuer = await startJwtIssuer({ issuer: zitadel.issuer, projectId: zitadel.projectId });
  try {
    const kitTokens = await mintTokens(zitadel, INTROSPECT * ROUNDS);
    const [hitToken, ...jwts] = await issuer.mint(LOCAL * ROUNDS + 1);
    const servers = await startServers(
      [
        ['local', 'jwt-local'],
        ['introspect', 'jwt-introspect'],
      ],
      {
        issuer: zitadel.issuer,
        apiKeyPath: zitadel.apiKeyPath,
        projectId: zitadel.projectId,
        buildDir,
        jwksUri: issuer.jwksUri,
        introspectionEndpoint: `${zitadel.issuer}/oauth/v2/introspect`,
      },
    );
    const runs = {
      local: [] as LoadResult[],
      introspect: [] as LoadResult[],
      hit: [] as LoadResult[],
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order =
        round % 2 ? (['introspect', 'local'] as const) : (['local', 'introspect'] as const);
      for (const mode of order) {
        const per = mode === 'local' ? LOCAL : INTROSPECT;
        const pool = mode === 'local' ? jwts : kitTokens;
        const tokens = pool.slice(round * per, (round + 1) * per);
        const result = await cold(zitadel, servers.get(mode)!, tokens);
        runs[mode].push(result);
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
      runs.hit.push(hit);
      console.log(
        `round ${round + 1} jwt-hit: ${Math.round(hit.rps)} req/s, ${Math.round(hit.serverCpuMicrosPerRequest!)} µs server CPU/request`,
      );
    }
    const local = median(runs.local.map((r) => r.rps));
    const introspect = median(runs.introspect.map((r) => r.rps));
    const ratios = runs.local.map((r, i) => (r.rps / runs.introspect[i].rps).toFixed(1));
    console.log(
      `median local ${Math.round(local)} req/s (${Math.round(median(runs.local.map((r) => r.serverCpuMicrosPerRequest!)))} µs CPU/req), ` +
        `introspect ${Math.round(introspect)} req/s, ratio ${(local / introspect).toFixed(1)}× (per round ${ratios.join(', ')}); ` +
        `jwt-hit ${Math.round(median(runs.hit.map((r) => r.rps)))} req/s (${Math.round(median(runs.hit.map((r) => r.serverCpuMicrosPerRequest!)))} µs CPU/req)`,
    );
    await Promise.all([...servers.values()].map((server) => stopChild(server.child)));
    if (profileDir) console.log(`CPU profiles: ${profileDir}`);
  } finally {
    await zitadel.close();
    await issuer.close();
  }
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
