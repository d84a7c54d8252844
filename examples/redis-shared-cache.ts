/**
 * Two instances of the example API share introspection results through one
 * Redis: the first instance asks ZITADEL, the second answers the same token
 * from Redis without a call. Each instance has its own Redis connection and
 * its own memory tier, as two processes behind a load balancer would.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis-shared-cache.ts
 *
 * It runs against a local ZITADEL, so Redis is all it needs.
 */
import Redis from 'ioredis';
import {
  RedisStore,
  serviceUserTokenSource,
  zitadelAuth,
  type IntrospectorStats,
  type ZitadelAuthMiddleware,
} from '../lib';
import { startLocalZitadel, type LocalZitadel } from '../lib/testing';
import { createApi } from './api';
import { formatStats, listen, projectScopes, type Listening, type Output } from './shared';

/** Both instances use this prefix: the same keys, so one's answer serves the other. */
const PREFIX = 'example-api:introspection:';

/**
 * What the two instances did for one token.
 *
 * @example
 * ```ts
 * const { first, second } = await compareInstances('redis://127.0.0.1:6379');
 * second.stats.introspections; // 0: answered from Redis
 * ```
 */
export interface SharedCacheRun {
  first: { status: number; stats: IntrospectorStats };
  second: { status: number; stats: IntrospectorStats };
  /** The second instance answered from the shared store without introspecting. */
  sharedHit: boolean;
}

/**
 * Checks `REDIS_URL`, runs {@link compareInstances} and prints both
 * instances' stats. Resolves to the exit code: 0 when the second instance
 * answered from Redis, 1 without `REDIS_URL` or when Redis is unreachable,
 * 2 when the second instance had to introspect.
 *
 * @example
 * ```ts
 * process.exitCode = await main({ REDIS_URL: 'redis://127.0.0.1:6379' });
 * ```
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: Output = console,
): Promise<number> {
  if (!env.REDIS_URL) {
    out.error(
      'Set REDIS_URL to a Redis the example may write to, e.g.\n\n' +
        '  REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis-shared-cache.ts\n\n' +
        `It writes keys under "${PREFIX}" that expire within minutes.`,
    );
    return 1;
  }
  let run: SharedCacheRun;
  try {
    run = await compareInstances(env.REDIS_URL, out);
  } catch (error) {
    if (!(error instanceof RedisUnreachableError)) throw error;
    out.error(error.message);
    return 1;
  }
  out.log(
    run.sharedHit
      ? '\n✓ Instance B answered from Redis: no second introspection for the same token.'
      : '\n✗ Instance B introspected again: the shared cache was not used.',
  );
  return run.sharedHit ? 0 : 2;
}

/**
 * Starts a local ZITADEL and two instances of the example API sharing one
 * Redis, sends one token to each in turn and prints each instance's stats.
 * Rejects with `RedisUnreachableError` when Redis does not answer.
 *
 * @example
 * ```ts
 * const run = await compareInstances(process.env.REDIS_URL!, console);
 * ```
 */
export async function compareInstances(redisUrl: string, out: Output): Promise<SharedCacheRun> {
  const closers: (() => Promise<unknown> | void)[] = [];
  try {
    const redisA = await connect(redisUrl);
    closers.push(() => redisA.quit());
    const redisB = await connect(redisUrl);
    closers.push(() => redisB.quit());

    const zitadel = await startLocalZitadel();
    closers.push(() => zitadel.close());
    const instanceA = await startInstance(zitadel, new RedisStore(redisA, { prefix: PREFIX }));
    closers.push(instanceA.close);
    const instanceB = await startInstance(zitadel, new RedisStore(redisB, { prefix: PREFIX }));
    closers.push(instanceB.close);

    const reader = await zitadel.createServiceUser({
      name: 'reader',
      roles: { reader: ['acme'] },
      auth: 'key',
    });
    const source = serviceUserTokenSource({
      issuer: zitadel.issuer,
      key: reader.keyPath,
      scope: projectScopes(zitadel.projectId),
    });
    const authorization = await source.authorizationHeader();

    out.log(`Redis ${redisHost(redisUrl)}, local ZITADEL ${zitadel.issuer}\n`);
    const first = await instanceA.call(authorization);
    out.log(`instance A  GET /api/reports → ${first.status}   ${formatStats(first.stats)}`);
    const second = await instanceB.call(authorization);
    out.log(`instance B  GET /api/reports → ${second.status}   ${formatStats(second.stats)}`);

    // Logout-style clean-up: evict() removes the entry from Redis and from every instance's memory.
    await instanceA.auth.introspector.evict(authorization.slice('Bearer '.length));
    const sharedHit =
      first.status === 200 &&
      second.status === 200 &&
      second.stats.hits === 1 &&
      second.stats.introspections === 0;
    return { first, second, sharedHit };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/** Redis did not answer; the message names the host but not the URL, which may hold a password. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

interface Instance {
  auth: ZitadelAuthMiddleware;
  call(authorization: string): Promise<{ status: number; stats: IntrospectorStats }>;
  close(): Promise<void>;
}

async function startInstance(zitadel: LocalZitadel, store: RedisStore): Promise<Instance> {
  const auth = zitadelAuth({
    issuer: zitadel.issuer,
    key: zitadel.apiKeyPath,
    projectId: zitadel.projectId,
    cache: { store },
  });
  let api: Listening;
  try {
    api = await listen(createApi({ auth }), 0);
  } catch (error) {
    await auth.introspector.close();
    throw error;
  }
  return {
    auth,
    async call(authorization) {
      const response = await fetch(`${api.url}/api/reports`, { headers: { authorization } });
      await response.arrayBuffer();
      return { status: response.status, stats: auth.introspector.stats() };
    },
    async close() {
      await api.close();
      await auth.introspector.close();
    },
  };
}

/** A connected ioredis client, so the first lookup does not wait for the connection. */
async function connect(redisUrl: string): Promise<Redis> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let lastError = 'no answer';
  const onError = (error: Error) => (lastError = error.message);
  client.on('error', onError);
  try {
    await client.connect();
    await client.ping();
  } catch {
    client.disconnect();
    throw new RedisUnreachableError(`cannot reach Redis at ${redisHost(redisUrl)}: ${lastError}`);
  } finally {
    client.off('error', onError);
  }
  return client;
}

/** host:port of a Redis URL: never the URL itself, which may hold a password. */
function redisHost(redisUrl: string): string {
  try {
    return new URL(redisUrl).host || 'REDIS_URL';
  } catch {
    return 'REDIS_URL';
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(`the example failed: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
