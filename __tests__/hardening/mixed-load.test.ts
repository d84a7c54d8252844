/**
 * Mixed load against the local ZITADEL: 20,000 requests at concurrency 100
 * mixing service users with different roles (PAT, JWT-bearer and
 * client-credentials tokens), inactive tokens, malformed and missing headers,
 * on a plain route and an admin-only route, while introspection latency
 * varies 0–20 ms, through the memory cache; then 6,000 more through a Redis
 * tier shared by two instances (ioredis and node-redis). Every answer is
 * checked against the decision its request deserves: zero wrong grants, zero
 * wrong denials, the right caller on every 200. Redis holds no raw token.
 */
import Redis from 'ioredis';
import { createClient as createNodeRedis } from 'redis';
import { RedisStore } from '../../lib/cache/redis-store';
import {
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import { describeWithRedis, redisUrlOrStart, uniquePrefix } from '../helpers/redis-server';
import { createClient, startApp, type Client, type TestApp } from './support/app';
import { createPopulation, runMixedLoad, type Population } from './support/mixed-traffic';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';
import { SecretScan } from './support/secrets';

const CONCURRENCY = 100;
const NO_MISTAKES = { wrongGrant: 0, wrongDenial: 0, wrongStatus: 0 };

let z: LocalZitadel;
let client: Client;
let population: Population;
const logger = captureLogger();
const scan = new SecretScan();
const built: Array<{ auth: ZitadelAuthMiddleware; app: TestApp }> = [];
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  z = await startLocalZitadel();
  population = await createPopulation(z, scan);
  await z.setLatency({ min: 0, max: 20 });
  client = createClient(CONCURRENCY);
});

afterAll(async () => {
  await Promise.all(built.map(({ auth }) => auth.introspector.close()));
  client?.close();
  await Promise.all(built.map(({ app }) => app.close()));
  await z?.close();
  for (const line of logger.lines) scan.text(`log ${line.level}`, line.message);
  expect(scan.leaks()).toEqual([]);
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

async function startInstance(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    projectId: z.projectId,
    logger,
    ...options,
  });
  const app = await startApp(auth);
  built.push({ auth, app });
  return { auth, app };
}

const load = (targets: TestApp[], count: number, seed: number) =>
  runMixedLoad({ client, targets, count, concurrency: CONCURRENCY, seed, population, scan });

describe('memory cache', () => {
  it('20,000 mixed requests at concurrency 100: every decision right', async () => {
    const { auth, app } = await startInstance();
    const { verdicts, statuses, samples } = await load([app], 20_000, 7);
    expect(samples).toEqual([]);
    expect(verdicts).toEqual({ ...NO_MISTAKES, right: 20_000 });
    for (const status of [200, 400, 401, 403]) expect(statuses[status]).toBeGreaterThan(500);
    expect(app.unexpected).toEqual([]);
    const stats = auth.introspector.stats();
    expect(stats.hits).toBeGreaterThan(stats.misses);
    expect(stats.errors).toBe(0);
  }, 120_000);
});

describeWithRedis('memory cache + a Redis tier shared by two instances', () => {
  let redis: { url: string; stop(): Promise<void> };
  let ioredis: Redis;
  let nodeRedis: ReturnType<typeof createNodeRedis>;
  const prefix = uniquePrefix('hardening');

  beforeAll(async () => {
    redis = await redisUrlOrStart();
    ioredis = new Redis(redis.url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
    nodeRedis = createNodeRedis({ url: redis.url });
    await nodeRedis.connect();
  });
  afterAll(async () => {
    ioredis?.disconnect();
    await nodeRedis?.destroy();
    await redis?.stop();
  });

  it('6,000 mixed requests over both: every decision right, no raw token in Redis', async () => {
    const store = (client: unknown) => new RedisStore(client, { prefix });
    const storeOnly = await startInstance({
      cache: { maxEntries: 0, store: store(ioredis), storeTimeoutMs: 200 },
    });
    const small = await startInstance({
      cache: { maxEntries: 5, store: store(nodeRedis), storeTimeoutMs: 200 },
    });
    const { verdicts, statuses, samples } = await load([storeOnly.app, small.app], 6_000, 11);
    expect(samples).toEqual([]);
    expect(verdicts).toEqual({ ...NO_MISTAKES, right: 6_000 });
    for (const status of [200, 400, 401, 403]) expect(statuses[status]).toBeGreaterThan(150);
    expect([...storeOnly.app.unexpected, ...small.app.unexpected]).toEqual([]);
    // The store did the work: the second instance mostly found the first one's answers.
    expect(small.auth.introspector.stats().hits).toBeGreaterThan(1000);

    const keys: string[] = [];
    for await (const batch of ioredis.scanStream({ match: `${prefix}*`, count: 500 })) {
      keys.push(...(batch as string[]));
    }
    // The fleet's layout: one hash tag per API app (one Cluster slot), then
    // the kind and a hash or HMAC — values `v:`, the subject and session indexes.
    const layout = new RegExp(
      `^${prefix}\\{[A-Za-z0-9_-]{22}\\}(v|subject|session):[A-Za-z0-9_-]{43}$`,
    );
    for (const key of keys) expect(key).toMatch(layout);
    const valueKeys = keys.filter((key) => key.includes('}v:'));
    expect(valueKeys.length).toBeGreaterThanOrEqual(population.callers.length);
    const values = (await ioredis.mget(valueKeys)).join('\n');
    for (const key of keys) scan.text('Redis key', key);
    scan.text('Redis values', values);
    for (const caller of population.callers) expect(values).not.toContain(caller.token);
    for (const token of population.inactive) expect(keys.join('\n')).not.toContain(token);
  }, 120_000);
});
