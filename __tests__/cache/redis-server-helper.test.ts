import { redisTarget, redisServerBin } from '../helpers/redis-server';

describe('redisTarget (how Redis suites find a server)', () => {
  const saved = { CI: process.env.CI, REDIS_URL: process.env.REDIS_URL };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('uses REDIS_URL when it is set, under CI or not', () => {
    process.env.REDIS_URL = 'redis://127.0.0.1:6390';
    process.env.CI = 'true';
    expect(redisTarget()).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6390' });
  });

  it('fails instead of skipping under CI=true without REDIS_URL', () => {
    delete process.env.REDIS_URL;
    process.env.CI = 'true';
    expect(() => redisTarget()).toThrow(/REDIS_URL must be set under CI=true/);
  });

  it('starts its own redis-server outside CI when the binary exists', () => {
    delete process.env.REDIS_URL;
    delete process.env.CI;
    const bin = redisServerBin();
    expect(redisTarget()).toEqual(
      bin ? { kind: 'spawn', bin } : { kind: 'skip', reason: expect.any(String) },
    );
  });
});
