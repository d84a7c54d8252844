/**
 * Redis is outside the trust boundary: what is in it and on its channels
 * carries no raw token or subject, and a forged value or message is ignored.
 */
import Redis from 'ioredis';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { calls, startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('fleet trust boundary', () => {
  let z: LocalZitadel;
  let redis: RedisServer;
  let raw: Redis;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
    raw = new Redis(redis.url);
  });
  afterEach(() => stopReplicas(replicas));
  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([z?.close(), redis?.stop()]);
  });

  it('puts no raw token or subject in any key, value or message', async () => {
    const watcher = raw.duplicate();
    const seen: string[] = [];
    watcher.on('pmessage', (_pattern, channel, message) => seen.push(channel, message));
    await watcher.psubscribe('*');
    replicas = await startReplicas(z, [redis.url], { count: 2, prefix: uniquePrefix('trust') });
    const { pat, userId } = await z.createServiceUser({ name: 'secretive', auth: 'pat' });
    const token = pat as string;
    await Promise.all(replicas.map((r) => r.introspector.introspect(token)));
    await replicas[0].introspector.evict(token);
    await replicas[1].introspector.introspect(token);
    await replicas[1].introspector.evictSubject(userId);
    await replicas[0].introspector.evictAll();
    await new Promise((resolve) => setTimeout(resolve, 100));
    watcher.disconnect();

    const keys = await raw.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    const contents: string[] = [...keys, ...seen];
    for (const key of keys) {
      const type = await raw.type(key);
      if (type === 'string') contents.push((await raw.get(key)) ?? '');
      if (type === 'zset') contents.push(...(await raw.zrange(key, '0', '-1')));
    }
    expect(seen.length).toBeGreaterThan(0);
    for (const text of contents) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(userId);
    }
  }, 30_000);

  it('ignores a forged value and a forged message written straight into Redis', async () => {
    const prefix = uniquePrefix('forge');
    replicas = await startReplicas(z, [redis.url], { count: 2, prefix });
    const { pat } = await z.createServiceUser({ name: 'forged', auth: 'pat' });
    const token = pat as string;
    expect((await replicas[0].introspector.introspect(token)).active).toBe(true);
    const valueKeys = (await raw.keys(`${prefix}*`)).filter((k) => k.includes('}v:'));
    expect(valueKeys).toHaveLength(1);
    // A grant for someone else, in clear, where the sealed answer was.
    const forged = { claims: { active: true, sub: 'evil', exp: 9_999_999_999 }, expiresAt: 9e15 };
    await raw.set(valueKeys[0], JSON.stringify(forged));
    const before = calls(replicas);
    const answer = await replicas[1].introspector.introspect(token);
    expect(answer.active && answer.auth.subject).not.toBe('evil');
    expect(calls(replicas)).toBe(before + 1);

    // A forged "evict everything" on the fleet's channel changes nothing.
    const channels = (await raw.pubsub('CHANNELS', `${prefix}events:*`)) as string[];
    expect(channels).toHaveLength(1);
    await raw.publish(channels[0], JSON.stringify({ from: 'x', body: { type: 'evict-all' } }));
    await raw.publish(channels[0], 'z1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterForgery = calls(replicas);
    await Promise.all(replicas.map((r) => r.introspector.introspect(token)));
    expect(calls(replicas)).toBe(afterForgery);
    const debug = replicas.flatMap((r) => r.logger.lines).map((l) => l.message);
    expect(debug).toContain('fleet message ignored: does not decrypt');
    expect(debug).toContain('cache store entry ignored: does not decrypt');
  }, 30_000);
});
