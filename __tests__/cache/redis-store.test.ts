/**
 * RedisStore against a real redis-server, with both clients it supports.
 * REDIS_URL is used when set; else a private redis-server is started; under
 * CI=true a missing REDIS_URL fails the suite (see helpers/redis-server.ts).
 */
import Redis from 'ioredis';
import { ConfigError } from '../../lib/errors';
import { RedisStore } from '../../lib/cache/redis-store';
import { cacheKey } from '../../lib/cache/result-cache';
import { describeWithRedis, redisUrlOrStart, uniquePrefix } from '../helpers/redis-server';
import { active, makeCache, testClock } from './fixtures';
import { clients, type ClientUnderTest } from './redis-clients';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisStore without a server', () => {
  it('rejects something that is not a Redis client with a ConfigError', () => {
    expect(() => new RedisStore(undefined)).toThrow(ConfigError);
    expect(() => new RedisStore({ get() {}, set() {} })).toThrow(/ioredis or node-redis/);
  });

  it('turns a synchronous client throw into a rejection', async () => {
    const boom = new Error('sync');
    const store = new RedisStore({
      get: () => {
        throw boom;
      },
      set: () => 'OK',
      del: () => 0,
    });
    await expect(store.get('k')).rejects.toBe(boom);
    await expect(store.set('k', 'v', 1)).resolves.toBe('OK');
    await expect(store.delete('k')).resolves.toBe(0);
  });

  it('reads a non-string reply as no value', async () => {
    const store = new RedisStore({
      get: async () => 42,
      set: async () => 'OK',
      del: async () => 1,
    });
    await expect(store.get('k')).resolves.toBeNull();
  });
});

describeWithRedis('RedisStore against redis-server', () => {
  let redis: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    redis = await redisUrlOrStart();
  });
  afterAll(() => redis.stop());

  describe.each(clients)('with %s', (_name, connect) => {
    let subject: ClientUnderTest;
    beforeAll(async () => {
      subject = await connect(redis.url);
    });
    afterAll(() => subject.close());

    it('sets, gets and deletes under the prefix, with a PX ttl', async () => {
      const prefix = uniquePrefix();
      const store = new RedisStore(subject.client, { prefix });
      await store.set('k', '{"v":1}', 60_000);
      await expect(store.get('k')).resolves.toBe('{"v":1}');
      await expect(subject.raw.get(`${prefix}k`)).resolves.toBe('{"v":1}');
      await expect(subject.raw.get('k')).resolves.toBeNull();
      const pttl = await subject.raw.pttl(`${prefix}k`);
      expect(pttl).toBeGreaterThan(55_000);
      expect(pttl).toBeLessThanOrEqual(60_000);

      await store.delete('k');
      await expect(store.get('k')).resolves.toBeNull();
      await expect(subject.raw.get(`${prefix}k`)).resolves.toBeNull();
    });

    it('uses zitadel:introspection: as the default prefix', async () => {
      const store = new RedisStore(subject.client);
      const key = uniquePrefix('default');
      await store.set(key, 'x', 5_000);
      await expect(subject.raw.get(`zitadel:introspection:${key}`)).resolves.toBe('x');
      await store.delete(key);
    });

    it('lets Redis expire the value after its ttl', async () => {
      const store = new RedisStore(subject.client, { prefix: uniquePrefix() });
      await store.set('short', 'x', 300);
      await expect(store.get('short')).resolves.toBe('x');
      await settle(500);
      await expect(store.get('short')).resolves.toBeNull();
    });

    it('rounds a fractional ttl up to a whole millisecond, at least 1', async () => {
      const prefix = uniquePrefix();
      const store = new RedisStore(subject.client, { prefix });
      // PX 0 would be an error in Redis ("invalid expire time").
      await expect(store.set('tiny', 'x', 0.3)).resolves.toBeDefined();
      await store.set('frac', 'x', 30_000.2);
      const pttl = await subject.raw.pttl(`${prefix}frac`);
      expect(pttl).toBeGreaterThan(29_000);
      expect(pttl).toBeLessThanOrEqual(30_001);
      await expect(store.set('bad', 'x', Number.NaN)).rejects.toThrow(RangeError);
    });

    it('does not see values of a foreign prefix, and the cache ignores garbage', async () => {
      const clock = testClock();
      const prefix = uniquePrefix();
      const store = new RedisStore(subject.client, { prefix });
      const key = cacheKey('https://issuer.example', 'api', 'token-a');
      const valid = JSON.stringify({ claims: { active: false }, expiresAt: clock.now() + 60_000 });
      await subject.raw.set(`other-api:${key}`, valid);
      await subject.raw.set(`${prefix}garbage`, '{"claims": nope');

      const { cache, logger } = makeCache(clock, { store });
      await expect(cache.get(key)).resolves.toBeUndefined();
      await expect(cache.get('garbage')).resolves.toBeUndefined();
      expect(logger.lines).toEqual([
        expect.objectContaining({ level: 'debug', message: expect.stringContaining('not JSON') }),
      ]);
    });

    it('shares answers between two API instances (a set in one is a hit in the other)', async () => {
      const clock = testClock();
      // Each instance has its own connection, as two processes would.
      const second = await connect(redis.url);
      try {
        const prefix = uniquePrefix();
        const one = makeCache(clock, {
          now: Date.now,
          store: new RedisStore(subject.client, { prefix }),
        });
        const two = makeCache(clock, {
          now: Date.now,
          store: new RedisStore(second.client, { prefix }),
        });
        const key = cacheKey('https://issuer.example', 'api', 'token-b');
        const claims = active('svc-1', Math.floor(Date.now() / 1000) + 600);

        await one.cache.set(key, { claims, value: { sub: 'svc-1' } });
        await expect(two.cache.get(key)).resolves.toEqual({
          active: true,
          value: { sub: 'svc-1' },
        });
        expect(two.revived).toEqual([claims]);

        await one.cache.delete(key);
        const three = makeCache(clock, {
          now: Date.now,
          store: new RedisStore(second.client, { prefix }),
        });
        await expect(three.cache.get(key)).resolves.toBeUndefined();
      } finally {
        await second.close();
      }
    });
  });

  it('works with a client wrapper that has no event emitter', async () => {
    const client = new Redis(redis.url);
    try {
      const wrapper = {
        get: (key: string) => client.get(key),
        set: (key: string, value: string, ...expiry: ['PX', number]) =>
          client.set(key, value, ...expiry),
        del: (key: string) => client.del(key),
      };
      const store = new RedisStore(wrapper, { prefix: uniquePrefix() });
      await store.set('k', 'v', 10_000);
      await expect(store.get('k')).resolves.toBe('v');
    } finally {
      client.disconnect();
    }
  });
});
