/**
 * The server under test, one variant per process (forked by `bench/run.ts`
 * through tsx, argv[2] = JSON {@link ServerConfig}). It reports its port over
 * IPC and answers `{ type: 'stats' }` with `auth.introspector.stats()` and
 * the CPU time it has used (user + system µs).
 * Every variant serves the same hello-world route; only what runs in front
 * of it differs.
 */
import { subscribe, tracingChannel } from 'node:diagnostics_channel';
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
export type ServerVariant =
  | 'baseline'
  | 'empty-layer'
  | 'same-shape'
  | 'hit'
  | 'hit-telemetry'
  | 'no-cache'
  | 'redis-hit'
  | 'jwt-local'
  | 'jwt-introspect';

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
  /** jwt-local / jwt-introspect: the project whose id the JWTs' `aud` carries. */
  projectId?: string;
  /** jwt-local / jwt-introspect: the bench's own JWKS (see jwt-tokens.ts). */
  jwksUri?: string;
  /** jwt-local / jwt-introspect: the local ZITADEL's introspection endpoint (no discovery). */
  introspectionEndpoint?: string;
  /** The compiled package (see build.ts). */
  buildDir: string;
}

/**
 * The cached variants measure hits: a run outlives the default maxTtlSeconds
 * (300 s), after which hit-many's 10,000 entries, each touched only every
 * ~100 s, would expire between rounds and turn into misses mid-run. The
 * kit's tokens live 3,600 s, so an entry now lasts the whole run.
 */
const WHOLE_RUN_TTL_SECONDS = 3600;

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
  if (config.variant === 'hit-telemetry') subscribeEveryChannel();
  if (auth) {
    await auth.introspector.ready();
    app.use(auth);
  }
  // What any middleware costs before doing anything: the floor under `hit`.
  if (config.variant === 'empty-layer') app.use((_req, _res, next) => next());
  // `hit`'s exact shape with nothing inside: a no-op in the auth's mount, a
  // function object carrying the same own properties (so V8 sees the same
  // shape), and the same error-handler layer after the route.
  if (config.variant === 'same-shape') app.use(sameShapeNoop());
  app.get('/hello', (_req, res) => {
    res.send('hello world');
  });
  // jwt-*: a refusal answered quietly too (Express's default handler prints each one).
  if (['hit', 'same-shape', 'jwt-local', 'jwt-introspect'].includes(config.variant)) {
    app.use(quietErrorHandler);
  }

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
  const cache = { maxTtlSeconds: WHOLE_RUN_TTL_SECONDS };
  switch (serverConfig.variant) {
    case 'baseline':
    case 'empty-layer':
      return undefined;
    case 'same-shape':
      return undefined;
    case 'hit':
    case 'hit-telemetry':
      return zitadelAuth({ ...base, cache });
    case 'jwt-local':
    case 'jwt-introspect':
      return zitadelAuth({
        ...base,
        introspectionEndpoint: serverConfig.introspectionEndpoint,
        projectId: serverConfig.projectId,
        jwt:
          serverConfig.variant === 'jwt-local'
            ? // The bench mints its own JWTs, which the kit's introspection calls inactive:
              // a revalidation (default every maxTtlSeconds, i.e. mid-run) would refuse them.
              { verify: 'local', jwksUri: serverConfig.jwksUri, revalidateSeconds: 3600 }
            : { verify: 'introspect' },
      });
    case 'no-cache':
      return zitadelAuth({ ...base, cache: false });
    case 'redis-hit': {
      if (!serverConfig.redisUrl) throw new Error('redis-hit needs a redisUrl');
      const client = new Redis(serverConfig.redisUrl, { maxRetriesPerRequest: 1 });
      return zitadelAuth({
        ...base,
        cache: { ...cache, maxEntries: 0, store: new RedisStore(client) },
      });
    }
  }
}

/** The error handler `hit` and `same-shape` both mount (a success never reaches it). */
function quietErrorHandler(
  error: unknown,
  _req: express.Request,
  res: express.Response,
  _next: express.NextFunction,
): void {
  res.status((error as { status?: number }).status ?? 500).end();
}

/** A no-op middleware with the own properties of a real `zitadelAuth` middleware. */
function sameShapeNoop(): express.RequestHandler {
  const noop: express.RequestHandler = (_req, _res, next) => next();
  const real = zitadelAuth({ issuer: config.issuer, key: config.apiKeyPath });
  for (const key of Object.keys(real)) {
    (noop as unknown as Record<string, unknown>)[key] = (
      real as unknown as Record<string, unknown>
    )[key];
  }
  return noop;
}

/** A no-op subscriber on every diagnostics channel of the package. */
function subscribeEveryChannel(): void {
  const noop = () => {};
  subscribe('express-zitadel-introspection:decision', noop);
  subscribe('express-zitadel-introspection:circuit', noop);
  tracingChannel('express-zitadel-introspection:http').subscribe({
    start: noop,
    end: noop,
    asyncStart: noop,
    asyncEnd: noop,
    error: noop,
  });
}
