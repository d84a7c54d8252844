/**
 * The seams other parts build on: FleetLink (scripts, keys, sealed messages
 * between replicas) and FLEET_HOOKS.sharedMemory, in Redis and in process.
 */
import { FLEET_HOOKS, type FleetHooks } from '../../lib/cache/fleet-hooks';
import { FLEET_LINK, type FleetLink, type FleetMessage } from '../../lib/cache/fleet-link';
import { createIntrospector } from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { eventually, startReplicas, stopReplicas, type Replica } from './fleet-kit';

type Seams = { [FLEET_HOOKS]: FleetHooks; [FLEET_LINK](): FleetLink | undefined };
const seams = (r: Replica) => r.introspector as unknown as Seams;

describeWithRedis('fleet seams', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
    replicas = await startReplicas(z, [redis.url], { count: 2, prefix: uniquePrefix('seam') });
  });
  afterAll(async () => {
    await stopReplicas(replicas);
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it('FleetLink runs scripts on scoped keys and carries messages to the other replica only', async () => {
    const [a, b] = replicas.map((r) => seams(r)[FLEET_LINK]() as FleetLink);
    expect(a.key('budget')).toBe(b.key('budget'));
    const script = "return redis.call('INCR', KEYS[1])";
    expect(await a.eval(script, [a.key('n')], [])).toBe(1);
    expect(await b.eval(script, [b.key('n')], [])).toBe(2);
    const heardByA: FleetMessage[] = [];
    const heardByB: FleetMessage[] = [];
    const stopA = a.onMessage((m) => heardByA.push(m));
    b.onMessage((m) => heardByB.push(m));
    await a.publish({ type: 'circuit', seconds: 4 });
    expect(await eventually(async () => heardByB.length === 1, 2_000)).toBe(true);
    expect(heardByB[0]).toEqual({ type: 'circuit', seconds: 4 });
    expect(heardByA).toEqual([]);
    stopA();
  });

  it('sharedMemory is fleet-wide with a coordinating store', async () => {
    const [a, b] = replicas.map((r) => seams(r)[FLEET_HOOKS].sharedMemory('grants'));
    await a.set('g1', 'user-1', 60_000);
    expect(await b.get('g1')).toBe('user-1');
    expect(await seams(replicas[1])[FLEET_HOOKS].sharedMemory('other').get('g1')).toBeUndefined();
    expect(await a.claim('event-1', 60_000)).toBe(true);
    expect(await b.claim('event-1', 60_000)).toBe(false);
    await b.delete('g1');
    expect(await a.get('g1')).toBeUndefined();
    expect(seams(replicas[0])[FLEET_HOOKS].projectId).toBe(z.projectId);
  });

  it('sharedMemory is an in-process LRU without a store, expiring by the clock', async () => {
    let now = 1_000_000;
    const alone = createIntrospector({ issuer: z.issuer, key: z.apiKeyFile, now: () => now });
    const memory = (alone as unknown as Seams)[FLEET_HOOKS].sharedMemory('x');
    expect((alone as unknown as Seams)[FLEET_LINK]()).toBeUndefined();
    await memory.set('k', 'v', 1_000);
    expect(await memory.get('k')).toBe('v');
    expect(await memory.claim('c', 1_000)).toBe(true);
    expect(await memory.claim('c', 1_000)).toBe(false);
    now += 1_000;
    expect(await memory.get('k')).toBeUndefined();
    expect(await memory.claim('c', 1_000)).toBe(true);
    await memory.delete('c');
    expect(await memory.claim('c', 1_000)).toBe(true);
    await alone.close();
  });
});
