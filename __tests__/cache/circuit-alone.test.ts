/**
 * The circuit of one replica without a fleet link, on an injected clock:
 * the local 429 back-off doubles and resets, overlapping circuits combine by
 * the later end, a wave of 429s is one step, and one local probe goes first.
 * (The fleet-wide variants run over a real Redis in __tests__/fleet-flow.)
 */
import { createCircuit, type CircuitChange, type CircuitPass } from '../../lib/cache/circuit';
import { IntrospectionUnavailableError } from '../../lib/errors';

let clock: number;
let changes: CircuitChange[];

function circuit() {
  clock = 1_000_000;
  changes = [];
  return createCircuit({ now: () => clock, probeLockMs: 5_000, onChange: (c) => changes.push(c) });
}

/** The Retry-After seconds `admit()` refuses with, or 'admitted'. */
async function refusedFor(c: ReturnType<typeof createCircuit>): Promise<number | CircuitPass> {
  try {
    return await c.admit();
  } catch (error) {
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    return (error as IntrospectionUnavailableError).retryAfterSeconds as number;
  }
}

it('a 429 without Retry-After backs off 1, 2, 4 s alone, and a successful probe resets it', async () => {
  const c = circuit();
  expect(await c.failed(await c.admit(), 'rate-limited')).toBe(1);
  expect(c.state()).toEqual({ open: true, secondsLeft: 1 });
  expect(await refusedFor(c)).toBe(1);
  clock += 1_000;
  const probe = await c.admit();
  expect(probe).toEqual({ probe: true });
  // While the probe is out, nobody else calls.
  expect(await refusedFor(c)).toBe(1);
  expect(await c.failed(probe, 'rate-limited')).toBe(2);
  clock += 2_000;
  expect(await c.failed(await c.admit(), 'rate-limited')).toBe(4);
  expect(c.state()).toEqual({ open: true, secondsLeft: 4 });
  clock += 4_000;
  const last = await c.admit();
  c.succeeded(last);
  expect(c.state()).toEqual({ open: false, secondsLeft: 0 });
  expect(changes.at(-1)).toEqual({ state: 'closed' });
  // Reset: the next 429 starts at 1 s again.
  expect(await c.failed(await c.admit(), 'rate-limited')).toBe(1);
});

it('429s of calls already in flight when it opened do not double the back-off', async () => {
  const c = circuit();
  const passes = [await c.admit(), await c.admit(), await c.admit()];
  expect(await c.failed(passes[0], 'rate-limited')).toBe(1);
  clock += 300;
  expect(await c.failed(passes[1], 'rate-limited')).toBe(1);
  expect(await c.failed(passes[2], 'rate-limited')).toBe(1);
  expect(changes).toEqual([{ state: 'open', seconds: 1, cause: 'backoff' }]);
});

it('overlapping circuits combine by the later end; a shorter one changes nothing', async () => {
  const c = circuit();
  const [a, b] = [await c.admit(), await c.admit()];
  expect(await c.failed(a, { retryAfterSeconds: 10 })).toBe(10);
  clock += 2_000;
  // A shorter Retry-After answers with what is left of the longer circuit.
  expect(await c.failed(b, { retryAfterSeconds: 3 })).toBe(8);
  expect(changes).toEqual([{ state: 'open', seconds: 10, cause: 'retry-after' }]);
  clock += 7_500;
  expect(c.state()).toEqual({ open: true, secondsLeft: 1 });
  clock += 500;
  expect(c.state().open).toBe(false);
});

it('a 429 long after the last one starts again at 1 s', async () => {
  const c = circuit();
  expect(await c.failed(await c.admit(), 'rate-limited')).toBe(1);
  clock += 1_000;
  expect(await c.failed(await c.admit(), 'rate-limited')).toBe(2);
  // The probe never came back (abandoned); two minutes pass without a 429.
  clock += 2_000;
  c.abandon(await c.admit());
  clock += 121_000;
  expect(await c.failed(await c.admit(), 'rate-limited')).toBe(1);
});

it('a call that began before the circuit opened does not close it by succeeding', async () => {
  const c = circuit();
  const [early, failing] = [await c.admit(), await c.admit()];
  await c.failed(failing, { retryAfterSeconds: 5 });
  c.succeeded(early);
  expect(c.state()).toEqual({ open: true, secondsLeft: 5 });
  expect(changes.filter((change) => change.state === 'closed')).toEqual([]);
});
