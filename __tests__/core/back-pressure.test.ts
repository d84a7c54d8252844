import { createBackPressure, type CircuitChange } from '../../lib/back-pressure';
import { IntrospectionUnavailableError } from '../../lib/errors';
import { RateLimitedError, ServerBusyError } from '../../lib/zitadel/introspection';

const rateLimited = () =>
  new RateLimitedError('introspection endpoint is rate limiting (HTTP 429)');
const busy = (seconds: number) => new ServerBusyError('busy', { retryAfterSeconds: seconds });

function gateAt(start = 1_000_000, extra: { maxInFlight?: number; perSecond?: number } = {}) {
  const clock = { now: start };
  const changes: CircuitChange[] = [];
  const gate = createBackPressure({
    maxInFlight: extra.maxInFlight ?? 10,
    maxIntrospectionsPerSecond: extra.perSecond,
    now: () => clock.now,
    probeLockMs: 10_000,
    onCircuitChange: (change) => changes.push(change),
  });
  return { gate, clock, changes };
}

async function refusal(admit: Promise<unknown>): Promise<IntrospectionUnavailableError> {
  const error = await admit.then(
    () => {
      throw new Error('admit() let the call through');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IntrospectionUnavailableError);
  return error as IntrospectionUnavailableError;
}

/** One call that meets a 429 without Retry-After; resolves to the error the request gets. */
async function meet429(gate: ReturnType<typeof gateAt>['gate']) {
  const admission = await gate.admit();
  return (await admission.failed(rateLimited())) as IntrospectionUnavailableError;
}

it('admits up to maxInFlight calls at once, and one more after one ends', async () => {
  const { gate } = gateAt(0, { maxInFlight: 2 });
  const first = await gate.admit();
  await gate.admit();
  expect((await refusal(gate.admit())).message).toBe(
    'too many introspections in flight (maxInFlight 2)',
  );
  first.succeeded();
  first.succeeded(); // a second end frees nothing more
  await gate.admit();
  await refusal(gate.admit());
});

it('a 429/503 with Retry-After opens the circuit for that long; Retry-After = seconds left', async () => {
  const { gate, clock, changes } = gateAt();
  const error = busy(3);
  expect(await (await gate.admit()).failed(error)).toBe(error);
  expect(changes).toEqual([{ state: 'open', seconds: 3, cause: 'retry-after' }]);
  expect(gate.circuit()).toEqual({ open: true, secondsLeft: 3 });
  expect(await refusal(gate.admit())).toMatchObject({
    retryAfterSeconds: 3,
    message: 'ZITADEL asked us to back off (circuit open)',
  });
  clock.now += 2_500;
  expect((await refusal(gate.admit())).retryAfterSeconds).toBe(1);
  clock.now += 500;
  expect(gate.circuit()).toEqual({ open: false, secondsLeft: 0 });
  (await gate.admit()).succeeded();
  expect(changes).toEqual([
    { state: 'open', seconds: 3, cause: 'retry-after' },
    { state: 'closed' },
  ]);
});

it('a 429 without Retry-After backs off 1, 2, 4 … 60 s; the request answers with its back-off', async () => {
  const { gate, clock, changes } = gateAt();
  const seen: number[] = [];
  for (let i = 0; i < 9; i++) {
    const error = await meet429(gate);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.message).toBe('introspection endpoint is rate limiting (HTTP 429)');
    seen.push(error.retryAfterSeconds);
    expect((await refusal(gate.admit())).retryAfterSeconds).toBe(error.retryAfterSeconds);
    clock.now += error.retryAfterSeconds * 1000;
  }
  expect(seen).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  expect(changes.every((c) => c.state === 'open' && c.cause === 'backoff')).toBe(true);
});

it('the first success after the back-off resets it: the next 429 waits 1 s again', async () => {
  const { gate, clock, changes } = gateAt();
  expect((await meet429(gate)).retryAfterSeconds).toBe(1);
  clock.now += 1000;
  expect((await meet429(gate)).retryAfterSeconds).toBe(2);
  clock.now += 2000;
  (await gate.admit()).succeeded();
  expect(changes.at(-1)).toEqual({ state: 'closed' });
  expect((await meet429(gate)).retryAfterSeconds).toBe(1);
});

it('a 429 more than two minutes after the last one starts the back-off at 1 s again', async () => {
  const { gate, clock } = gateAt();
  expect((await meet429(gate)).retryAfterSeconds).toBe(1);
  clock.now += 1000;
  expect((await meet429(gate)).retryAfterSeconds).toBe(2);
  clock.now += 121_000;
  expect((await meet429(gate)).retryAfterSeconds).toBe(1);
});

it('429s of calls that began before the circuit opened do not double it', async () => {
  const { gate } = gateAt();
  const calls = await Promise.all([gate.admit(), gate.admit(), gate.admit()]);
  const errors = await Promise.all(calls.map((c) => c.failed(rateLimited())));
  expect(errors.map((e) => (e as IntrospectionUnavailableError).retryAfterSeconds)).toEqual([
    1, 1, 1,
  ]);
});

it('a success of a call that began before the circuit opened neither closes nor resets it', async () => {
  const { gate, clock, changes } = gateAt();
  const early = await gate.admit();
  await meet429(gate);
  early.succeeded();
  expect(changes).toEqual([{ state: 'open', seconds: 1, cause: 'backoff' }]);
  await refusal(gate.admit());
  clock.now += 1000;
  expect((await meet429(gate)).retryAfterSeconds).toBe(2);
});

it('when the circuit ends one probe goes first; the others get 503 Retry-After 1 until it succeeds', async () => {
  const { gate, clock } = gateAt();
  await (await gate.admit()).failed(busy(2));
  clock.now += 2000;
  const probe = await gate.admit();
  const waiting = await refusal(gate.admit());
  expect(waiting.retryAfterSeconds).toBe(1);
  expect(waiting.message).toMatch(/probe/);
  probe.succeeded();
  await Promise.all([gate.admit(), gate.admit()]);
});

it('a probe that fails without a busy signal lets the next call probe; other errors pass unchanged', async () => {
  const { gate, clock, changes } = gateAt();
  await (await gate.admit()).failed(busy(1));
  clock.now += 1000;
  const outage = new IntrospectionUnavailableError('HTTP 502');
  expect(await (await gate.admit()).failed(outage)).toBe(outage);
  const second = await gate.admit();
  await refusal(gate.admit());
  second.succeeded();
  expect(changes.at(-1)).toEqual({ state: 'closed' });
});

it('overlapping circuits combine by the later end; a shorter one does not shorten it', async () => {
  const { gate, clock, changes } = gateAt();
  const [first, second] = await Promise.all([gate.admit(), gate.admit()]);
  await first.failed(busy(10));
  clock.now += 1000;
  await second.failed(busy(2));
  expect((await refusal(gate.admit())).retryAfterSeconds).toBe(9);
  expect(changes).toHaveLength(1);
});

it('maxIntrospectionsPerSecond: beyond it 503 Retry-After 1, a new second a new budget', async () => {
  const { gate, clock } = gateAt(5_000_000, { perSecond: 2 });
  (await gate.admit()).succeeded();
  (await gate.admit()).succeeded();
  const over = await refusal(gate.admit());
  expect(over).toMatchObject({ retryAfterSeconds: 1 });
  expect(over.message).toBe('over the introspection budget (maxIntrospectionsPerSecond 2)');
  clock.now += 999;
  await refusal(gate.admit());
  clock.now += 1;
  (await gate.admit()).succeeded();
});

it('a call refused by the budget frees its maxInFlight slot', async () => {
  const { gate } = gateAt(0, { maxInFlight: 1, perSecond: 1 });
  (await gate.admit()).succeeded();
  await refusal(gate.admit());
  await expect(gate.admit()).rejects.toThrow(/budget/);
});
