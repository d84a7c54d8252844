/**
 * One replica of the `fleet` bench (forked by bench/fleet.ts, argv[2] = JSON
 * {@link ReplicaConfig}): its own ioredis client and coordinating RedisStore
 * on the shared redis-server, `GET /api` behind `zitadelAuth`, and on
 * replica 0 the `zitadelEvents()` webhook. Commands over IPC: `evict`
 * (a token), `webhook` (the event target's signing key), `stats`.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Redis from 'ioredis';
import { loadPackage } from './build';
import type { ChildMessage } from './processes';

/**
 * What bench/fleet.ts passes in argv[2].
 *
 * @example
 * ```ts
 * forkScript('fleet-replica', { index: 0, issuer, apiKeyPath, projectId, redisUrl, buildDir, maxTtlSeconds: 300 });
 * ```
 */
export interface ReplicaConfig {
  index: number;
  issuer: string;
  apiKeyPath: string;
  projectId: string;
  redisUrl: string;
  /** Redis key prefix of this fleet (apart from the other bench servers). */
  prefix: string;
  maxTtlSeconds: number;
  /** `cache.refreshAheadSeconds` (steady-stream), where that option exists. */
  refreshAheadSeconds?: number;
  buildDir: string;
}

/**
 * A command the orchestrator sends a replica.
 *
 * @example
 * ```ts
 * replica.send({ type: 'evict', token } satisfies ReplicaCommand);
 * ```
 */
export type ReplicaCommand =
  | { type: 'evict'; token: string }
  | { type: 'watch'; token: string }
  | { type: 'webhook'; signingKey: string }
  | { type: 'stats' };

/** How often a watching replica looks whether the token left its memory. */
const WATCH_INTERVAL_MS = 1;

const config = JSON.parse(process.argv[2]) as ReplicaConfig;
const lib = loadPackage<typeof import('../lib')>(config.buildDir, 'index');
const { INTROSPECT_NOW_IF_CACHED } = loadPackage<typeof import('../lib/introspector-api')>(
  config.buildDir,
  'introspector-api',
);
const send = (message: ChildMessage) => process.send?.(message);

process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));

main().catch((error: Error) => {
  send({ type: 'error', message: `replica ${config.index}: ${error.message}` });
  process.exitCode = 1;
});

async function main(): Promise<void> {
  const client = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const auth = lib.zitadelAuth({
    issuer: config.issuer,
    key: config.apiKeyPath,
    projectId: config.projectId,
    cache: {
      store: new lib.RedisStore(client, { prefix: config.prefix }),
      maxTtlSeconds: config.maxTtlSeconds,
      // steady-stream only, where fleet-flow's refresh-ahead exists (not typed on this branch).
      ...(config.refreshAheadSeconds === undefined
        ? {}
        : ({ refreshAheadSeconds: config.refreshAheadSeconds } as object)),
    },
  });
  await auth.introspector.ready();
  let webhook: express.RequestHandler = (_req, res) => void res.status(503).end();
  const app = express();
  app.disable('x-powered-by');
  if (config.index === 0) app.post('/zitadel/events', (req, res, next) => webhook(req, res, next));
  app.get(['/api', '/hello'], auth, (_req, res) => void res.status(204).end());
  // Refusals answered quietly (Express's default handler prints each one).
  app.use(((error, _req, res, _next) => {
    res.status((error as { status?: number }).status ?? 500).end();
  }) as express.ErrorRequestHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) =>
    server.once('listening', resolve).once('error', reject),
  );
  server.maxConnections = 4000;

  process.on('message', (command: ReplicaCommand) => {
    if (command.type === 'evict') {
      auth.introspector.evict(command.token).then(
        () => send({ type: 'result', result: 'evicted' }),
        (error: Error) => send({ type: 'error', message: `evict: ${error.message}` }),
      );
    } else if (command.type === 'watch') {
      watchUntilEvicted(auth.introspector, command.token);
    } else if (command.type === 'webhook') {
      webhook = lib.zitadelEvents({
        signingKey: command.signingKey,
        introspector: auth.introspector,
      });
      send({ type: 'result', result: 'webhook' });
    } else if (command.type === 'stats') {
      send({ type: 'stats', stats: { ...auth.introspector.stats() } as Record<string, number> });
    }
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

/**
 * `watch`: answers `watching` at once, then `gone` as soon as the token's
 * answer is no longer in this replica's memory — the moment the eviction
 * arrived, without a request (a request would add an introspection).
 */
function watchUntilEvicted(introspector: object, token: string): void {
  const peek = (
    introspector as Record<typeof INTROSPECT_NOW_IF_CACHED, (token: string) => unknown>
  )[INTROSPECT_NOW_IF_CACHED];
  // A cached answer comes back synchronously; a Promise means it had to be looked up.
  const cached = () => {
    const answer = peek(token);
    if (!(answer instanceof Promise)) return true;
    answer.catch(() => {}); // the lookup it started is not ours to judge
    return false;
  };
  if (!cached()) return void send({ type: 'error', message: 'watch: the token is not cached' });
  send({ type: 'result', result: 'watching' });
  const timer = setInterval(() => {
    if (cached()) return;
    clearInterval(timer);
    send({ type: 'result', result: 'gone' });
  }, WATCH_INTERVAL_MS);
}
