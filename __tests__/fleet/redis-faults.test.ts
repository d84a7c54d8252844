/**
 * A stalled Redis (SIGSTOP) costs at most storeTimeoutMs per operation and
 * the replicas work alone; after SIGCONT they coordinate again. A subscriber
 * that reconnects clears the memory tier (evictions may have been missed).
 */
import Redis from 'ioredis';
import { INTROSPECT_NOW_IF_CACHED } from '../../lib/introspector';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { eventually, patOf, startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('fleet under Redis faults', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
  });
  afterEach(async () => {
    process.kill(redis.pid, 'SIGCONT');
    await stopReplicas(replicas);
  });
  afterAll(async () => {
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it('answers alone within bounded time while redis-server is SIGSTOPped, and recovers', async () => {
    replicas = await startReplicas(z, [redis.url], {
      count: 2,
      prefix: uniquePrefix('stall'),
      cache: { storeTimeoutMs: 100 },
    });
    const token = await patOf(z, 'stalled');
    process.kill(redis.pid, 'SIGSTOP');
    const started = Date.now();
    const answers = await Promise.all(replicas.map((r) => r.introspector.introspect(token)));
    // Store read, lock, write, publish: each at most 100 ms (generous slack for a loaded machine).
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(answers.every((a) => a.active)).toBe(true);
    expect(replicas.map((r) => r.introspector.stats().misses)).toEqual([1, 1]);

    process.kill(redis.pid, 'SIGCONT');
    const fresh = await patOf(z, 'after-stall');
    const after = await Promise.all(replicas.map((r) => r.introspector.introspect(fresh)));
    expect(after.every((a) => a.active)).toBe(true);
    const peers = replicas.reduce((n, r) => n + r.introspector.stats().peerAnswered, 0);
    const misses = replicas.reduce((n, r) => n + r.introspector.stats().misses, 0);
    expect(misses + peers).toBe(4);
    expect(misses).toBe(3); // one call for the new token across both replicas again
  }, 30_000);

  it('clears the memory tier when the subscriber reconnects', async () => {
    replicas = await startReplicas(z, [redis.url], { count: 1, prefix: uniquePrefix('re') });
    const [replica] = replicas;
    const token = await patOf(z, 'reconnect');
    await replica.introspector.introspect(token);
    const peek = () =>
      (replica.introspector as unknown as Record<symbol, (t: string) => unknown>)[
        INTROSPECT_NOW_IF_CACHED
      ](token);
    expect(peek()).not.toBeInstanceOf(Promise); // a memory hit answers synchronously
    const admin = new Redis(redis.url);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    admin.disconnect();
    const warned = await eventually(
      async () => replica.logger.lines.some((l) => /subscriber reconnected/.test(l.message)),
      5_000,
    );
    expect(warned).toBe(true);
    const next = peek();
    expect(next).toBeInstanceOf(Promise); // memory was cleared
    await next;
  }, 30_000);
});
