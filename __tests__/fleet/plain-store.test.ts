/**
 * `coordinate: false`: a plain shared tier (no lock, no subscriber), still
 * encrypted; evictions skip the store's older values on the evicting replica.
 */
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { calls, startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('fleet with coordinate: false', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
  });
  afterEach(() => stopReplicas(replicas));
  afterAll(async () => {
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it.each(['evictSubject', 'evictAll'] as const)(
    'shares answers, and %s skips the older store value',
    async (how) => {
      replicas = await startReplicas(z, [redis.url], {
        count: 2,
        prefix: uniquePrefix('plain'),
        coordinate: false,
      });
      const { pat, userId } = await z.createServiceUser({ name: `plain-${how}`, auth: 'pat' });
      const token = pat as string;
      const [a, b] = replicas.map((r) => r.introspector);
      await a.introspect(token);
      await b.introspect(token); // a store hit: no call
      expect(calls(replicas)).toBe(1);
      expect(b.stats().hits).toBe(1);
      if (how === 'evictSubject') await b.evictSubject(userId);
      else await b.evictAll();
      // B neither serves its memory nor A's older store value.
      expect((await b.introspect(token)).active).toBe(true);
      expect(calls(replicas)).toBe(2);
    },
    30_000,
  );
});
