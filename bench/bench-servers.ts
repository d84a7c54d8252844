/**
 * The servers under test as seen from run.ts: forked (bench/server.ts), one
 * per variant, all at once; their introspector counters and CPU time on ask.
 */
import type { ChildProcess } from 'node:child_process';
import { forkScript, nextMessage } from './processes';
import type { ServerConfig, ServerVariant } from './server';
import { profileDir } from './settings';

/**
 * How long a server may take to report ready. Eleven servers start at once,
 * each through tsx: on a loaded 2-core machine (load average 9–14) 30 s was
 * not enough.
 */
const READY_TIMEOUT_MS = 180_000;

/**
 * One running server process.
 *
 * @example
 * ```ts
 * const { port } = servers.get('hit') as Server;
 * ```
 */
export interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

/**
 * Starts one server per `[name, variant]` of the plan, in parallel.
 *
 * @example
 * ```ts
 * const servers = await startServers([['hit', 'hit']], { issuer, apiKeyPath, buildDir });
 * ```
 */
export async function startServers(
  plan: readonly (readonly [string, ServerVariant])[],
  base: Omit<ServerConfig, 'variant'>,
): Promise<Map<string, Server>> {
  const servers = new Map<string, Server>();
  for (const server of await Promise.all(
    plan.map(([name, variant]) => startServer(name, { ...base, variant })),
  )) {
    servers.set(server.name, server);
  }
  return servers;
}

/**
 * The server's introspector counters and its CPU time so far (`cpuMicros`).
 *
 * @example
 * ```ts
 * const { introspections, cpuMicros } = await serverStats(server);
 * ```
 */
export async function serverStats(server: Server): Promise<Record<string, number>> {
  const answer = nextMessage(server.child, 'stats', 10_000);
  server.child.send({ type: 'stats' });
  return (await answer).stats;
}

/**
 * `a + sign × b`, key by key (counters of two stats snapshots).
 *
 * @example
 * ```ts
 * const during = addUp(after, before, -1);
 * ```
 */
export function addUp(
  a: Record<string, number> = {},
  b: Record<string, number>,
  sign = 1,
): Record<string, number> {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + sign * value;
  return sum;
}

async function startServer(name: string, config: ServerConfig): Promise<Server> {
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = forkScript('server', config, flags);
  const { port } = await nextMessage(child, 'ready', READY_TIMEOUT_MS);
  if (profileDir) console.log(`server ${name}: pid ${child.pid}`);
  return { name, child, port };
}
