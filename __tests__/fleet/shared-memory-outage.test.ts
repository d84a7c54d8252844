/**
 * FLEET_HOOKS.sharedMemory when the coordinating Redis dies: it never
 * rejects and costs bounded time; reads find nothing, writes are dropped, and
 * a claim succeeds locally (the webhook would rather handle an event twice
 * than drop it).
 */
import { FLEET_HOOKS, type FleetHooks } from '../../lib/cache/fleet-hooks';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('shared memory with its Redis gone', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
    replicas = await startReplicas(z, [redis.url], { count: 1, prefix: uniquePrefix('mem-out') });
  });
  afterAll(async () => {
    await stopReplicas(replicas);
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it('get, set, delete and claim resolve within the store timeout; claim says first', async () => {
    const hooks = (replicas[0].introspector as unknown as { [FLEET_HOOKS]: FleetHooks })[
      FLEET_HOOKS
    ];
    const memory = hooks.sharedMemory('grants');
    await memory.set('g1', 'user-1', 60_000);
    expect(await memory.get('g1')).toBe('user-1');
    expect(await memory.claim('seen', 60_000)).toBe(true);
    expect(await memory.claim('seen', 60_000)).toBe(false);

    redis.kill();
    const started = Date.now();
    await expect(memory.set('g2', 'user-2', 60_000)).resolves.toBeUndefined();
    await expect(memory.get('g1')).resolves.toBeUndefined();
    await expect(memory.delete('g1')).resolves.toBeUndefined();
    await expect(memory.claim('another', 60_000)).resolves.toBe(true);
    // Four operations, each bounded by storeTimeoutMs (500 ms in the fleet kit).
    expect(Date.now() - started).toBeLessThan(4 * 500 + 1_500);
  }, 20_000);
});
