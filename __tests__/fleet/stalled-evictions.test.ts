/**
 * Evictions and ready() while redis-server is SIGSTOPped: they stay within
 * bounded time and never reject (Redis is no authorization decision), and
 * the evicting replica itself stops answering from memory at once.
 */
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('evictions with a stalled Redis', () => {
  let redis: RedisServer;
  let zitadel: ScriptedZitadel;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [redis, zitadel] = await Promise.all([startRedis(), startScriptedZitadel()]);
    zitadel.answer('default', { json: activeAnswer({ sub: 'user-1' }, 3600) });
  });
  beforeEach(async () => {
    replicas = await startReplicas(
      { issuer: zitadel.issuer, clientId: 'api@project', clientSecret: 'secret' },
      [redis.url],
      { count: 2, prefix: uniquePrefix('stall-evict'), cache: { storeTimeoutMs: 100 } },
    );
  });
  afterEach(async () => {
    process.kill(redis.pid, 'SIGCONT');
    await stopReplicas(replicas);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), zitadel?.close()]);
  });

  it.each(['evict', 'evictSubject', 'evictAll'] as const)(
    '%s resolves within bounded time and the replica drops the token from memory',
    async (how) => {
      const [a] = replicas;
      const token = `token-${how}`;
      await a.introspector.introspect(token);
      const before = zitadel.requests.length;
      await a.introspector.introspect(token);
      expect(zitadel.requests.length).toBe(before); // a memory hit
      process.kill(redis.pid, 'SIGSTOP');
      const started = Date.now();
      if (how === 'evict') await a.introspector.evict(token);
      else if (how === 'evictSubject') await a.introspector.evictSubject('user-1');
      else await a.introspector.evictAll();
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await a.introspector.introspect(token)).active).toBe(true);
      expect(zitadel.requests.length).toBe(before + 1); // asked ZITADEL again, alone
    },
    20_000,
  );

  it('ready() again once subscribed, with Redis stalled: resolves within bounded time', async () => {
    process.kill(redis.pid, 'SIGSTOP');
    const started = Date.now();
    await expect(replicas[0].introspector.ready()).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
