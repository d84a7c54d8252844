/**
 * The smoke set through a real Redis Sentinel the test starts itself (a
 * master and `redis-server --sentinel` monitoring it, quorum 1): two
 * replicas, each with its own ioredis client that finds the master through
 * the sentinel (its `duplicate()`, the store's subscriber, does so too).
 */
import Redis from 'ioredis';
import type { Introspector } from '../../lib/introspector';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import { uniquePrefix } from '../helpers/redis-server';
import { describeWithSentinel, startSentinel, type RedisSentinel } from '../helpers/redis-sentinel';
import { fleetSmoke, smokeReplicas } from './support/smoke';

describeWithSentinel('fleet through Redis Sentinel', () => {
  let z: LocalZitadel;
  let sentinel: RedisSentinel;
  const clients: Redis[] = [];
  const introspectors: Introspector[] = [];
  const loggers: ReturnType<typeof captureLogger>[] = [];

  beforeAll(async () => {
    [z, sentinel] = await Promise.all([startLocalZitadel(), startSentinel()]);
    const fleet = smokeReplicas(
      z,
      () => new Redis({ sentinels: [sentinel.address], name: sentinel.name }),
      uniquePrefix('sentinel'),
    );
    clients.push(...fleet.clients);
    introspectors.push(...fleet.introspectors);
    loggers.push(...fleet.loggers);
    await Promise.all(introspectors.map((i) => i.ready()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(introspectors.map((i) => i.close()));
    clients.forEach((c) => c.disconnect());
    await Promise.all([z?.close(), sentinel?.stop()]);
  });

  it('the clients reach the master through the sentinel and subscribe', async () => {
    const info = await clients[0].info('server');
    expect(info).toMatch(new RegExp(`tcp_port:${sentinel.master.port}\\b`));
    for (const logger of loggers) {
      const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warnings.filter((m) => /subscription|works alone/.test(m))).toEqual([]);
    }
  });

  it('one call per token across both replicas, evict and evictSubject refused on the other', async () => {
    await fleetSmoke(z, introspectors, 'sentinel');
    // The fleet's keys are on the master the sentinel named.
    const admin = new Redis(sentinel.master.url);
    try {
      expect((await admin.keys('sentinel:*')).length).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }
  }, 30_000);
});
