/**
 * `health().store` from a real RedisStore on a real redis-server: a
 * coordinating store is not ok until its event subscription is up, and not
 * ok again once the subscriber loses Redis (evictions could be missed); a
 * plain store never holds `ok` down; no store, no `store` part.
 */
import Redis from 'ioredis';
import { createClient } from 'redis';
import { RedisStore, zitadelAuth, type CacheStore, type Introspector } from '../../lib';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';

let scripted: ScriptedZitadel;
const introspectors: Introspector[] = [];

function introspectorWith(store?: CacheStore): Introspector {
  const { introspector } = zitadelAuth({
    issuer: scripted.issuer,
    clientId: 'api',
    clientSecret: 'pw',
    retries: 0,
    cache: store ? { store } : {},
  });
  introspectors.push(introspector);
  return introspector;
}

async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

beforeAll(async () => {
  scripted = await startScriptedZitadel();
});

afterAll(async () => {
  for (const introspector of introspectors) await introspector.close();
  await scripted.close();
});

describeWithRedis('health().store (real redis-server)', () => {
  let redis: RedisServer;
  const clients: { disconnect(): void }[] = [];

  beforeEach(async () => {
    redis = await startRedis();
  });

  afterEach(async () => {
    // Before their Redis goes: a closed introspector's subscriber stops reconnecting.
    for (const introspector of introspectors.splice(0)) await introspector.close();
    for (const client of clients.splice(0)) client.disconnect();
    await redis.stop();
  });

  it('ioredis: coordinating and not ok before ready(), subscribed and ok after', async () => {
    // disconnectTimeout: a client cut off mid-reconnect otherwise holds a 2 s timer past the suite.
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, disconnectTimeout: 100 });
    clients.push(client);
    const introspector = introspectorWith(new RedisStore(client, { prefix: uniquePrefix() }));
    expect(introspector.health().store).toEqual({ coordinating: true, subscribed: false });
    expect(introspector.health().ok).toBe(false);
    await introspector.ready();
    expect(introspector.health()).toMatchObject({
      ok: true,
      store: { coordinating: true, subscribed: true },
      discovery: { ok: true },
    });
  });

  it('ioredis: a Redis that dies takes the subscription, and ok, down', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, disconnectTimeout: 100 });
    clients.push(client);
    const introspector = introspectorWith(new RedisStore(client, { prefix: uniquePrefix() }));
    await introspector.ready();
    expect(introspector.health().store?.subscribed).toBe(true);
    redis.kill();
    expect(await until(() => introspector.health().store?.subscribed === false)).toBe(true);
    expect(introspector.health().ok).toBe(false);
  });

  it('node-redis: subscribed after ready(), not after close()', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    clients.push({ disconnect: () => void client.destroy() });
    const introspector = introspectorWith(new RedisStore(client, { prefix: uniquePrefix() }));
    await introspector.ready();
    expect(introspector.health().store).toEqual({ coordinating: true, subscribed: true });
    await introspector.close();
    expect(introspector.health().store).toEqual({ coordinating: true, subscribed: false });
  });
});

it('a plain store (no coordinate()) is reported as such and never holds ok down', async () => {
  const values = new Map<string, string>();
  const plain: CacheStore = {
    get: async (key) => values.get(key),
    set: async (key, value) => void values.set(key, value),
    delete: async (key) => void values.delete(key),
  };
  const introspector = introspectorWith(plain);
  await introspector.ready();
  expect(introspector.health()).toMatchObject({
    ok: true,
    store: { coordinating: false, subscribed: false },
  });
});

it('without a store there is no store part', async () => {
  const introspector = introspectorWith();
  await introspector.ready();
  expect(introspector.health()).not.toHaveProperty('store');
  expect(introspector.health().ok).toBe(true);
});
