/**
 * The server under test, one variant per process (forked by `bench/run.ts`
 * through tsx, argv[2] = JSON {@link ServerConfig}). It reports its port over
 * IPC and answers `{ type: 'stats' }` with `auth.introspector.stats()` and
 * the CPU time it has used (user + system µs).
 * Every variant serves the same hello-world route; only what runs in front
 * of it differs.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Redis from 'ioredis';
import type { ZitadelAuthMiddleware, ZitadelAuthOptions } from '../lib';
import { loadPackage } from './build';
import type { ChildMessage } from './processes';

/**
 * The variants a server can run.
 *
 * @example
 * ```ts
 * const variant: ServerVariant = 'redis-hit';
 * ```
 */
export type ServerVariant = 'baseline' | 'empty-layer' | 'hit' | 'no-cache' | 'redis-hit';

/**
 * What `bench/run.ts` passes in argv[2].
 *
 * @example
 * ```ts
 * forkScript('server', { variant: 'hit', issuer, apiKeyPath, buildDir } satisfies ServerConfig);
 * ```
 */
export interface ServerConfig {
  variant: ServerVariant;
  issuer: string;
  apiKeyPath: string;
  redisUrl?: string;
  /** The compiled package (see build.ts). */
  buildDir: string;
}

const config = JSON.parse(process.argv[2]) as ServerConfig;
const { RedisStore, zitadelAuth } = loadPackage<typeof import('../lib')>(config.buildDir, 'index');
const send = (message: ChildMessage) => process.send?.(message);

// Exit (rather than die) on SIGTERM, so `--cpu-prof` can write its profile.
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));

main().catch((error: Error) => {
  send({ type: 'error', message: `server ${config.variant}: ${error.message}` });
  process.exitCode = 1;
});

async function main(): Promise<void> {
  const app = express();
  app.disable('x-powered-by');
  const auth = authFor(config);
  if (auth) {
    await auth.introspector.ready();
    app.use(auth);
  }
  // What any middleware costs before doing anything: the floor under `hit`.
  if (config.variant === 'empty-layer') app.use((_req, _res, next) => next());
  app.get('/hello', (_req, res) => {
    res.send('hello world');
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) =>
    server.once('listening', resolve).once('error', reject),
  );
  // autocannon and the cold burst open up to 500 sockets at once.
  server.maxConnections = 2000;
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') {
      const { user, system } = process.cpuUsage();
      const stats = { ...(auth ? auth.introspector.stats() : {}), cpuMicros: user + system };
      send({ type: 'stats', stats });
    }
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

function authFor(serverConfig: ServerConfig): ZitadelAuthMiddleware | undefined {
  const base: ZitadelAuthOptions = { issuer: serverConfig.issuer, key: serverConfig.apiKeyPath };
  switch (serverConfig.variant) {
    case 'baseline':
    case 'empty-layer':
      return undefined;
    case 'hit':
      return zitadelAuth(base);
    case 'no-cache':
      return zitadelAuth({ ...base, cache: false });
    case 'redis-hit': {
      if (!serverConfig.redisUrl) throw new Error('redis-hit needs a redisUrl');
      const client = new Redis(serverConfig.redisUrl, { maxRetriesPerRequest: 1 });
      return zitadelAuth({ ...base, cache: { maxEntries: 0, store: new RedisStore(client) } });
    }
  }
}
