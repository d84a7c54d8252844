/**
 * Redis dies under load: two instances share a Redis tier (one store-only
 * through ioredis, one with a memory tier through node-redis) while mixed
 * traffic runs at concurrency 100; a third of the way in, redis-server is
 * SIGKILLed. The store becomes a miss, introspection takes over: every
 * decision stays right, nothing crashes, no rejection goes unhandled, and the
 * outage is logged a few times, not once per request. Needs its own
 * redis-server to kill, so it runs when the binary is there (always under CI).
 */
import Redis from 'ioredis';
import { createClient as createNodeRedis } from 'redis';
import { RedisStore } from '../../lib/cache/redis-store';
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import {
  redisServerBin,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { createClient, startApp, type TestApp } from './support/app';
import { createPopulation, runMixedLoad, type Population } from './support/mixed-traffic';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';
import { SecretScan } from './support/secrets';

const bin = redisServerBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('redis-server is needed under CI=true: this suite may not be skipped');
}
if (!bin) console.warn('skipping the Redis-outage-under-load suite: no redis-server binary');
const describeOutage = bin ? describe : describe.skip;

describeOutage('Redis killed under mixed load', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let ioredis: Redis;
  let nodeRedis: ReturnType<typeof createNodeRedis>;
  let population: Population;
  const client = createClient(100);
  const logger = captureLogger();
  const scan = new SecretScan();
  const built: Array<{ auth: ZitadelAuthMiddleware; app: TestApp }> = [];
  const watch = watchProcess();
  const baseline = liveHandles();

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
    population = await createPopulation(z, scan);
    ioredis = new Redis(redis.url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
    nodeRedis = createNodeRedis({ url: redis.url });
    // node-redis reports a lost connection on its client; RedisStore listens there.
    await nodeRedis.connect();
    const prefix = uniquePrefix('outage');
    for (const [redisClient, maxEntries] of [
      [ioredis, 0],
      [nodeRedis, 1000],
    ] as const) {
      const store = new RedisStore(redisClient, { prefix, logger });
      const auth = zitadelAuth({
        issuer: z.issuer,
        key: z.apiKeyFile,
        projectId: z.projectId,
        cache: { maxEntries, store },
        logger,
      });
      built.push({ auth, app: await startApp(auth) });
    }
  });

  afterAll(async () => {
    await Promise.all(built.map(({ auth }) => auth.introspector.close()));
    client.close();
    await Promise.all(built.map(({ app }) => app.close()));
    ioredis?.disconnect();
    nodeRedis?.destroy();
    await redis?.stop();
    await z?.close();
    for (const line of logger.lines) scan.text(`log ${line.level}`, line.message);
    expect(scan.leaks()).toEqual([]);
    watch.stop();
    expect(watch.failures).toEqual([]);
    expect(unexpectedWarnings(watch.warnings)).toEqual([]);
    expect(await handlesLeftOver(baseline)).toEqual({});
  });

  it('keeps every decision right when Redis dies a third of the way in', async () => {
    let killedAt: number | undefined;
    const report = await runMixedLoad({
      client,
      targets: built.map(({ app }) => app),
      count: 6000,
      concurrency: 100,
      seed: 23,
      population,
      scan,
      onSent: (index) => {
        if (index >= 2000 && killedAt === undefined) {
          killedAt = index;
          redis.kill();
        }
      },
    });
    expect(killedAt).toBeDefined();
    expect(report.samples).toEqual([]);
    expect(report.verdicts).toEqual({ right: 6000, wrongGrant: 0, wrongDenial: 0, wrongStatus: 0 });
    for (const { app } of built) expect(app.unexpected).toEqual([]);
    // Introspection took over from the store-only instance's dead tier.
    const storeOnly = built[0].auth.introspector.stats();
    expect(storeOnly.misses).toBeGreaterThan(100);
    expect(storeOnly.errors).toBe(0);
    const outageLines = logger.lines.filter((line) => /redis|cache store/i.test(line.message));
    expect(outageLines.length).toBeGreaterThan(0);
    expect(outageLines.filter((line) => line.level !== 'debug').length).toBeLessThanOrEqual(8);
  }, 60_000);
});
