/**
 * One introspection per token per fleet: four replicas, each with its own
 * client and RedisStore, on one real redis-server and the local ZITADEL.
 */
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { calls, patOf, startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('fleet single-flight', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
  });
  afterEach(async () => {
    await stopReplicas(replicas);
    replicas = [];
    await z.setLatency(0);
  });
  afterAll(async () => {
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it.each(['ioredis', 'node-redis'] as const)(
    'makes one call for a new token sent to four replicas at once (%s)',
    async (kind) => {
      replicas = await startReplicas(z, [redis.url], {
        count: 4,
        prefix: uniquePrefix('one'),
        kind,
      });
      const token = await patOf(z, `one-call-${kind}`);
      await z.setLatency(300);
      const answers = await Promise.all(replicas.map((r) => r.introspector.introspect(token)));
      expect(answers.every((a) => a.active)).toBe(true);
      expect(calls(replicas)).toBe(1);
      const stats = replicas.map((r) => r.introspector.stats());
      expect(stats.reduce((n, s) => n + s.misses, 0)).toBe(1);
      expect(stats.reduce((n, s) => n + s.peerAnswered, 0)).toBe(3);
      // Each request counted exactly once.
      for (const s of stats) expect(s.hits + s.misses + s.coalesced + s.peerAnswered).toBe(1);
    },
    30_000,
  );

  it('makes one call for an outage seen by four replicas', async () => {
    replicas = await startReplicas(z, [redis.url], {
      count: 4,
      prefix: uniquePrefix('outage'),
      timeoutMs: 400,
    });
    const token = await patOf(z, 'outage-call');
    await z.setLatency(1_500); // longer than timeoutMs: the holder's call times out
    const results = await Promise.allSettled(replicas.map((r) => r.introspector.introspect(token)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const r of results) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ status: 503 });
    }
    expect(calls(replicas)).toBe(1);
  }, 30_000);
});
