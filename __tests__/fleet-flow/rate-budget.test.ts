/**
 * maxIntrospectionsPerSecond over a real redis-server: fleet-wide across
 * four replicas (each its own ioredis client and coordinating RedisStore),
 * per process when Redis stalls.
 */
import { startRedis, uniquePrefix, type RedisServer } from '../helpers/redis-server';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import {
  commandsDuring,
  randomToken,
  sleep,
  startReplicas,
  stopReplicas,
  type Replica,
} from './support/replicas';

const PER_SECOND = 5;
const OPTIONS = { maxIntrospectionsPerSecond: PER_SECOND, cache: { inactiveTtlSeconds: 60 } };
let redis: RedisServer;
let zitadel: ScriptedZitadel;
let replicas: Replica[];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());
beforeEach(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('default', { json: { active: false } });
  replicas = await startReplicas(
    4,
    { redisUrl: redis.url, prefix: uniquePrefix(), zitadel },
    OPTIONS,
  );
});
afterEach(async () => {
  await stopReplicas(replicas);
  await zitadel.close();
});

/** Waits for the start of a wall-clock second (Redis's TIME runs on this machine's clock). */
async function startOfASecond() {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

/** 10 new tokens on each replica at once; how many were answered and how many shed. */
async function burst() {
  const answers = await Promise.allSettled(
    replicas.flatMap((r) =>
      Array.from({ length: 10 }, () => r.introspector.introspect(randomToken())),
    ),
  );
  const shed = replicas.reduce((sum, r) => sum + r.introspector.stats().shed, 0);
  return { answered: answers.filter((a) => a.status === 'fulfilled').length, shed };
}

it('bounds introspections fleet-wide, not per process: 40 misses over 4 replicas, 5 calls', async () => {
  await startOfASecond();
  const { answered, shed } = await burst();
  // 5 in a second for the whole fleet (a burst that straddles a second may get 10); per process it would be 20.
  expect(zitadel.requests.length).toBeGreaterThanOrEqual(PER_SECOND);
  expect(zitadel.requests.length).toBeLessThanOrEqual(2 * PER_SECOND);
  expect(answered).toBe(zitadel.requests.length);
  expect(shed).toBe(40 - answered);
});

it('a refusal is 503 Retry-After 1 without a call; cached tokens are unaffected and touch no Redis', async () => {
  const cached = randomToken();
  await startOfASecond();
  await replicas[0].introspector.introspect(cached);
  await burst();
  const calls = zitadel.requests.length;
  // The watch sees Redis traffic: a replica without the token in memory reads the store.
  const storeRead = await commandsDuring(redis.url, async () => {
    await replicas[1].introspector.introspect(cached);
  });
  expect(storeRead).toContain('evalsha');
  const commands = await commandsDuring(redis.url, async () => {
    for (let i = 0; i < 50; i++) {
      expect(await replicas[0].introspector.introspect(cached)).toMatchObject({ active: false });
    }
  });
  expect(commands).toEqual([]);
  expect(zitadel.requests.length).toBe(calls);
  const refused = await replicas[0].introspector.introspect(randomToken()).catch((e: unknown) => e);
  expect(refused).toMatchObject({ status: 503, retryAfterSeconds: 1 });
});

it('a stalled Redis: the budget falls back to the per-process count, each answer within bounded time', async () => {
  await stopReplicas(replicas);
  // Each Redis operation of these replicas gives up after 100 ms.
  replicas = await startReplicas(
    4,
    { redisUrl: redis.url, prefix: uniquePrefix(), zitadel, storeTimeoutMs: 100 },
    OPTIONS,
  );
  process.kill(redis.pid, 'SIGSTOP');
  try {
    await startOfASecond();
    const started = Date.now();
    const { answered } = await burst();
    expect(Date.now() - started).toBeLessThan(3000);
    // Each replica alone: 5 per process and second (a straddled second may double it).
    expect(answered).toBeGreaterThanOrEqual(4 * PER_SECOND);
    expect(answered).toBeLessThanOrEqual(8 * PER_SECOND);
    expect(zitadel.requests.length).toBe(answered);
  } finally {
    process.kill(redis.pid, 'SIGCONT');
  }
});
