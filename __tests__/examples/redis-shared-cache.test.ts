/**
 * The shared-cache example on a real Redis: the second API instance answers
 * the first instance's token from Redis without introspecting.
 */
import { main } from '../../examples/redis-shared-cache';
import { describeWithRedis, redisUrlOrStart } from '../helpers/redis-server';
import { captureOutput } from './output';

describeWithRedis('examples/redis-shared-cache.ts on Redis', () => {
  let redis: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    redis = await redisUrlOrStart();
  });
  afterAll(() => redis?.stop());

  it('answers on instance B from Redis, prints both stats and exits 0', async () => {
    const out = captureOutput();
    await expect(main({ REDIS_URL: redis.url }, out)).resolves.toBe(0);
    const instanceA = out.lines.find((line) => line.startsWith('instance A'));
    const instanceB = out.lines.find((line) => line.startsWith('instance B'));
    expect(instanceA).toMatch(/→ 200 .*hits=0 misses=1 .*introspections=1 /);
    expect(instanceB).toMatch(/→ 200 .*hits=1 misses=0 .*introspections=0 /);
    expect(out.text()).toContain('✓ Instance B answered from Redis');
  });
});

describe('examples/redis-shared-cache.ts without a usable Redis', () => {
  it('explains REDIS_URL and exits 1 when it is not set', async () => {
    const out = captureOutput();
    await expect(main({}, out)).resolves.toBe(1);
    expect(out.text()).toContain('Set REDIS_URL');
  });

  it('exits 1 when Redis does not answer, naming the host but not the password', async () => {
    const out = captureOutput();
    await expect(main({ REDIS_URL: 'redis://:s3cret-pw@127.0.0.1:1' }, out)).resolves.toBe(1);
    expect(out.text()).toBe('cannot reach Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
  });
});
