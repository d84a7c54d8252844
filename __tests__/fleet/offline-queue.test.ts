/**
 * Callers whose ioredis client has `enableOfflineQueue: false`: its
 * `duplicate()` (the store's subscriber) rejects SUBSCRIBE until it is
 * `ready`, so the store must wait for `ready` first. Two introspectors, each
 * with its own such client and RedisStore, on a real redis-server and the
 * local ZITADEL: the smoke set.
 */
import Redis from 'ioredis';
import type { Introspector } from '../../lib/introspector';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { fleetSmoke, smokeReplicas } from './support/smoke';

describeWithRedis('fleet with ioredis enableOfflineQueue: false', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  const clients: Redis[] = [];
  const introspectors: Introspector[] = [];
  const loggers: ReturnType<typeof captureLogger>[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
    const fleet = smokeReplicas(
      z,
      () =>
        // Not awaited: the subscriber duplicate is created while nothing is ready yet.
        new Redis(redis.url, { enableOfflineQueue: false }),
      uniquePrefix('offline'),
    );
    clients.push(...fleet.clients);
    introspectors.push(...fleet.introspectors);
    loggers.push(...fleet.loggers);
    await Promise.all(introspectors.map((i) => i.ready()));
  });
  afterAll(async () => {
    await Promise.all(introspectors.map((i) => i.close()));
    clients.forEach((c) => c.disconnect());
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it('subscribes once ready: no replica works alone', () => {
    for (const logger of loggers) {
      const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warnings.filter((m) => /subscription|works alone/.test(m))).toEqual([]);
    }
  });

  it('one call per token for both, evict and evictSubject refused on the other', async () => {
    await fleetSmoke(z, introspectors, 'offline');
  }, 30_000);
});
