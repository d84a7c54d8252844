/**
 * close() leaves no handle open: the subscriber duplicate is quit, locks are
 * released, and the caller's own client stays usable.
 */
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { handlesLeftOver, liveHandles } from '../hardening/support/process-watch';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { connect, patOf } from './fleet-kit';
import { createIntrospector, RedisStore } from '../../lib';

describeWithRedis('fleet close()', () => {
  let z: LocalZitadel;
  let redis: RedisServer;

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it.each(['ioredis', 'node-redis'] as const)(
    'leaves no handle open and the client usable (%s)',
    async (kind) => {
      const token = await patOf(z, `close-${kind}`);
      const { client, close } = await connect(kind, [redis.url]);
      const baseline = liveHandles();
      const introspector = createIntrospector({
        issuer: z.issuer,
        key: z.apiKeyFile,
        cache: { store: new RedisStore(client, { prefix: uniquePrefix('close') }) },
      });
      await introspector.ready();
      expect((await introspector.introspect(token)).active).toBe(true);
      await introspector.close();
      expect(await handlesLeftOver(baseline)).toEqual({});
      // The caller's client is not closed by the store.
      await expect(
        (client as { get(k: string): Promise<unknown> }).get('anything'),
      ).resolves.toBeNull();
      await close();
    },
    30_000,
  );
});
