/**
 * Refresh-ahead against the local ZITADEL made slow (setLatency), in real
 * time: a token used every 250 ms with a 3 s TTL. No request after the first
 * waits for ZITADEL, and calls stay near one per TTL — alone, and with two
 * replicas sharing a RedisStore on a real redis-server.
 */
import Redis from 'ioredis';
import { RedisStore } from '../../lib/cache/redis-store';
import { createIntrospector, type Introspector } from '../../lib/introspector';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { startRedis, uniquePrefix, type RedisServer } from '../helpers/redis-server';
import { sleep } from './support/replicas';

const LATENCY_MS = 800;
const TTL_SECONDS = 3;
const RUN_MS = 8_000;
/** Far below ZITADEL's latency: the request did not wait for a call. */
const NO_WAIT_MS = 400;

let z: LocalZitadel;
let redis: RedisServer;
let token: string;
const open: Introspector[] = [];

beforeAll(async () => {
  [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
  const user = await z.createServiceUser({ name: 'steady', roles: {}, auth: 'pat' });
  token = user.pat!;
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()));
  await Promise.all([z.close(), redis.stop()]);
});
afterEach(() => z.setLatency(0));

function make(store?: RedisStore) {
  const introspector = createIntrospector({
    issuer: z.issuer,
    key: z.apiKeyFile,
    cache: { maxTtlSeconds: TTL_SECONDS, store, storeTimeoutMs: 500 },
  });
  open.push(introspector);
  return introspector;
}

/** Uses the token on every replica every 250 ms for RUN_MS; the time each request took. */
async function steadyUse(replicas: Introspector[]): Promise<number[][]> {
  const took: number[][] = replicas.map(() => []);
  const end = Date.now() + RUN_MS;
  while (Date.now() < end) {
    await Promise.all(
      replicas.map(async (replica, i) => {
        const started = Date.now();
        expect(await replica.introspect(token)).toMatchObject({ active: true });
        took[i].push(Date.now() - started);
      }),
    );
    await sleep(250);
  }
  return took;
}

it('one replica: no request after the first waits; about one call per TTL', async () => {
  const replica = make();
  await replica.ready();
  await z.setLatency(LATENCY_MS);
  const [took] = await steadyUse([replica]);
  expect(took[0]).toBeGreaterThanOrEqual(LATENCY_MS);
  expect(Math.max(...took.slice(1))).toBeLessThan(NO_WAIT_MS);
  const { introspections, refreshes, misses } = replica.stats();
  expect(misses).toBe(1);
  // Refreshed at half the TTL once the new entry lands: 8 s / (1.5 s + 0.8 s) ≈ 3.5 refreshes.
  expect(refreshes).toBeGreaterThanOrEqual(2);
  expect(introspections).toBeLessThanOrEqual(1 + Math.ceil(RUN_MS / ((TTL_SECONDS * 1000) / 2)));
  expect(introspections).toBe(1 + refreshes);
});

it('two replicas sharing a RedisStore: nobody waits after the first request', async () => {
  const prefix = uniquePrefix('steady');
  const clients = [new Redis(redis.url), new Redis(redis.url)];
  try {
    const replicas = clients.map((client) => make(new RedisStore(client, { prefix })));
    await Promise.all(replicas.map((r) => r.ready()));
    await z.setLatency(LATENCY_MS);
    const took = await steadyUse(replicas);
    for (const series of took) expect(Math.max(...series.slice(1))).toBeLessThan(NO_WAIT_MS);
    const stats = replicas.map((r) => r.stats());
    expect(stats.reduce((sum, s) => sum + s.misses, 0)).toBeLessThanOrEqual(2);
    expect(stats.every((s) => s.refreshes >= 2)).toBe(true);
  } finally {
    await Promise.all(open.splice(0).map((i) => i.close()));
    for (const client of clients) client.disconnect();
  }
});
