import { createSingleFlight } from '../../lib/cache/single-flight';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createSingleFlight', () => {
  it('shares one work() call among 500 concurrent runs of one key', async () => {
    const flights = createSingleFlight<string>();
    const gate = deferred<string>();
    let calls = 0;
    const work = () => {
      calls++;
      return gate.promise;
    };

    const runs = Array.from({ length: 500 }, () => flights.run('k', work));
    expect(calls).toBe(1);
    expect(flights.size).toBe(1);
    expect(runs[0].joined).toBe(false);
    expect(runs.slice(1).every((run) => run.joined)).toBe(true);

    gate.resolve('answer');
    const results = await Promise.all(runs.map((run) => run.promise));
    expect(new Set(results)).toEqual(new Set(['answer']));
    expect(calls).toBe(1);
    expect(flights.size).toBe(0);
  });

  it('runs different keys independently', async () => {
    const flights = createSingleFlight<string>();
    const a = flights.run('a', async () => 'A');
    const b = flights.run('b', async () => 'B');
    expect([a.joined, b.joined]).toEqual([false, false]);
    expect(flights.size).toBe(2);
    await expect(Promise.all([a.promise, b.promise])).resolves.toEqual(['A', 'B']);
  });

  it('gives every waiter the same rejection and does not remember the failure', async () => {
    const flights = createSingleFlight<string>();
    const gate = deferred<string>();
    let calls = 0;
    const failing = () => {
      calls++;
      return gate.promise;
    };
    const first = flights.run('k', failing);
    const second = flights.run('k', failing);
    expect(second.joined).toBe(true);

    const boom = new Error('outage');
    gate.reject(boom);
    await expect(first.promise).rejects.toBe(boom);
    await expect(second.promise).rejects.toBe(boom);
    expect(flights.size).toBe(0);

    const next = flights.run('k', async () => {
      calls++;
      return 'recovered';
    });
    expect(next.joined).toBe(false);
    await expect(next.promise).resolves.toBe('recovered');
    expect(calls).toBe(2);
  });

  it('turns a synchronous throw of work() into a shared rejection', async () => {
    const flights = createSingleFlight<string>();
    const boom = new Error('sync');
    const run = flights.run('k', () => {
      throw boom;
    });
    await expect(run.promise).rejects.toBe(boom);
    expect(flights.size).toBe(0);
  });

  it('starts a fresh call once the previous one has settled', async () => {
    const flights = createSingleFlight<number>();
    let calls = 0;
    const work = async () => ++calls;
    await flights.run('k', work).promise;
    const again = flights.run('k', work);
    expect(again.joined).toBe(false);
    await expect(again.promise).resolves.toBe(2);
  });
});
