/**
 * What a replica that lost the fleet lock does, on a real redis-server with
 * two coordinators (each its own client): the holder's outcome (`stored`,
 * `not-stored`, `outage`, a Retry-After held to 1..60 s), a lost message
 * (found by polling), a refresh whose holder vanished, Redis stalling during
 * the wait, and the wait's bound on the injected clock.
 */
import { createFleetFlight, throughFleet, type Turn } from '../../lib/cache/fleet-flight';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';
import { startCoordinator, testFleet, type TestCoordinator } from './support/coordinators';

const meta = (startedAt: number) => ({ startedAt, subject: 'subject-hmac', session: undefined });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('waiting for the fleet lock', () => {
  let redis: RedisServer;
  let open: TestCoordinator[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    process.kill(redis.pid, 'SIGCONT');
    await Promise.all(open.map((c) => c.close()));
    open = [];
  });
  afterAll(() => redis?.stop());

  /** Two replicas of one fleet; `clock` drives the waiter's injected clock. */
  async function pair(options: { timeoutMs?: number; waitMs?: number } = {}) {
    const fleet = testFleet();
    const clock = { now: Date.now() };
    const holder = await startCoordinator('ioredis', redis.url, fleet, options);
    const waiter = await startCoordinator('ioredis', redis.url, fleet, {
      ...options,
      now: () => clock.now,
    });
    open.push(holder, waiter);
    await Promise.all([holder.coordinator.ready(5_000), waiter.coordinator.ready(5_000)]);
    const flights = {
      holder: createFleetFlight(holder.coordinator, { waitMs: 10_000, now: Date.now }),
      waiter: createFleetFlight(waiter.coordinator, {
        waitMs: options.waitMs ?? 10_000,
        now: () => clock.now,
      }),
    };
    return { holder, waiter, flights, clock };
  }

  /** The waiter's side of throughFleet: the real store as its peer, its own call counted in `calls`. */
  function waiterHandlers(p: Awaited<ReturnType<typeof pair>>, calls: string[] = []) {
    return {
      peer: () => p.waiter.coordinator.shared.read('k'),
      call: async () => {
        calls.push('call');
        return { value: 'own call', stored: false };
      },
      outage: (seconds: number) => new Error(`outage ${seconds}`),
      retryAfterOf: () => undefined,
    };
  }

  /** The holder's turn, and the waiter's claim started (and listening) behind it. */
  async function contend(p: Awaited<ReturnType<typeof pair>>, refresh = false) {
    const first = await p.flights.holder.claim('k');
    expect(first.kind).toBe('call');
    let settled: Turn | undefined;
    const second = p.flights.waiter.claim('k', { refresh }).then((t) => (settled = t));
    await sleep(300); // the waiter lost the lock and is polling
    expect(settled).toBeUndefined();
    return { first: first as Extract<Turn, { kind: 'call' }>, second };
  }

  it('the holder stored its answer: the waiter reads it (no call of its own)', async () => {
    const p = await pair();
    const { first, second } = await contend(p);
    expect(
      await p.holder.coordinator.shared.write('k', () => 'answer', 10_000, meta(first.startedAt)),
    ).toBe(true);
    await first.finish({ outcome: 'stored' });
    expect(await second).toEqual({ kind: 'stored' });
  });

  it('the holder stored nothing: the waiter reads the store once more at once', async () => {
    const p = await pair();
    const { first, second } = await contend(p);
    const finished = Date.now();
    await first.finish({ outcome: 'not-stored' });
    expect(await second).toEqual({ kind: 'stored' }); // read the store, then call if it misses
    expect(Date.now() - finished).toBeLessThan(1_500); // not the lock's 2 s
  });

  it.each([
    ['landed after the holder gave up on it: the waiter takes it, no call', true, 'late write'],
    ['is not there (not cacheable): the waiter calls on its own', false, 'own call'],
  ])('after not-stored, a write that %s', async (_case, landed, expected) => {
    const p = await pair();
    const { first } = await contend(p);
    const calls: string[] = [];
    const waiting = throughFleet(p.flights.waiter, 'k', waiterHandlers(p, calls));
    // The holder's store write timed out on its side, yet Redis took it.
    if (landed) {
      expect(
        await p.holder.coordinator.shared.write(
          'k',
          () => 'late write',
          10_000,
          meta(first.startedAt),
        ),
      ).toBe(true);
    }
    await first.finish({ outcome: 'not-stored' });
    expect(await waiting).toBe(expected);
    expect(calls).toEqual(landed ? [] : ['call']);
  });

  it.each([
    [7, 7],
    [600, 60],
    ['soon', 5],
  ])('an outage with Retry-After %p: the waiter answers 503 Retry-After %p', async (sent, held) => {
    const p = await pair();
    const { second } = await contend(p);
    await p.holder.coordinator.publish({
      type: 'outcome',
      key: 'k',
      outcome: 'outage',
      retryAfter: sent,
    });
    expect(await second).toEqual({ kind: 'outage', retryAfter: held });
  });

  it('an outcome the waiter does not know is ignored; it keeps waiting for a real one', async () => {
    const p = await pair();
    const { first, second } = await contend(p);
    let settled: Turn | undefined;
    void second.then((t) => (settled = t));
    await p.holder.coordinator.publish({ type: 'outcome', key: 'k', outcome: 'granted' });
    await sleep(400);
    expect(settled).toBeUndefined();
    await first.finish({ outcome: 'outage', retryAfter: 3 });
    expect(await second).toEqual({ kind: 'outage', retryAfter: 3 });
  });

  it('two claims of one key on one replica both hear the holder', async () => {
    const p = await pair();
    const { first, second } = await contend(p);
    const third = p.flights.waiter.claim('k');
    await sleep(200);
    await first.finish({ outcome: 'outage', retryAfter: 2 });
    expect(await Promise.all([second, third])).toEqual([
      { kind: 'outage', retryAfter: 2 },
      { kind: 'outage', retryAfter: 2 },
    ]);
  });

  it('a holder gone without a word or a value: the waiter takes the lock and calls', async () => {
    const p = await pair();
    const lock = await p.holder.coordinator.lock('k');
    let settled: Turn | undefined;
    const second = p.flights.waiter.claim('k').then((t) => (settled = t));
    await sleep(300);
    expect(settled).toBeUndefined();
    await lock.release();
    const turn = await second;
    expect(turn).toMatchObject({ kind: 'call' });
    // It holds the lock now: a third replica would wait for it.
    expect((await p.holder.coordinator.lock('k')).won).toBe(false);
    await (turn as Extract<Turn, { kind: 'call' }>).finish({ outcome: 'not-stored' });
  });

  it('a holder whose call fails (not an outage) tells the waiters to call themselves', async () => {
    const p = await pair();
    let release!: () => void;
    const failing = throughFleet(p.flights.holder, 'k', {
      peer: async () => undefined,
      call: () =>
        new Promise((_resolve, reject) => {
          release = () => reject(new Error('client authentication rejected'));
        }),
      outage: (seconds) => new Error(`outage ${seconds}`),
      retryAfterOf: () => undefined,
    });
    await sleep(200);
    // The store holds nothing after a failed call: the waiter's one more read misses.
    const waiting = throughFleet(p.flights.waiter, 'k', waiterHandlers(p));
    await sleep(300);
    release();
    await expect(failing).rejects.toThrow('client authentication rejected');
    expect(await waiting).toBe('own call');
  });

  it('the outcome message was lost: polling finds the stored answer', async () => {
    const p = await pair();
    const lock = await p.holder.coordinator.lock('k');
    let settled: Turn | undefined;
    const second = p.flights.waiter.claim('k').then((t) => (settled = t));
    await sleep(300);
    expect(settled).toBeUndefined();
    await p.holder.coordinator.shared.write('k', () => 'answer', 10_000, meta(lock.startedAt));
    expect(await second).toEqual({ kind: 'stored' }); // nobody published anything
    await lock.release();
  });

  it('a refresh whose holder is gone without a word adopts what the store holds', async () => {
    const p = await pair();
    const lock = await p.holder.coordinator.lock('k');
    await p.holder.coordinator.shared.write('k', () => 'older', 10_000, meta(lock.startedAt));
    let settled: Turn | undefined;
    // A refresh waits for the holder, not for a value (the store has the older one).
    const second = p.flights.waiter.claim('k', { refresh: true }).then((t) => (settled = t));
    await sleep(300);
    expect(settled).toBeUndefined();
    await lock.release();
    expect(await second).toEqual({ kind: 'stored' });
  });

  it('Redis stalls while a replica waits: its next poll times out and it calls alone', async () => {
    const p = await pair({ timeoutMs: 150 });
    const { second } = await contend(p);
    process.kill(redis.pid, 'SIGSTOP');
    const stalled = Date.now();
    expect(await second).toMatchObject({ kind: 'call' });
    expect(Date.now() - stalled).toBeLessThan(2_000);
  });

  it('a live holder that takes too long: the wait ends by the injected clock', async () => {
    const p = await pair({ waitMs: 60_000 });
    const { first, second } = await contend(p);
    let settled: Turn | undefined;
    void second.then((t) => (settled = t));
    await sleep(500);
    expect(settled).toBeUndefined(); // the holder renews its lock: still waiting
    p.clock.now += 60_001;
    await sleep(500); // a few polls of ~100 ms
    expect(settled).toMatchObject({ kind: 'call' });
    expect((await p.waiter.coordinator.poll('k')).lockTtl).toBeGreaterThan(0);
    await first.finish({ outcome: 'not-stored' });
  });
});
