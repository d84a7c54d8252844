/**
 * The circuit's handling of what the fleet link hands it, on an injected
 * clock with an in-memory link (the real link over Redis is exercised in
 * __tests__/fleet-flow): answers and messages it must not trust blindly.
 */
import { createCircuit, type CircuitChange } from '../../lib/cache/circuit';
import type { FleetLink, FleetMessage } from '../../lib/cache/fleet-link';
import { BACKOFF_SCRIPT } from '../../lib/cache/flow-scripts';

function linked(backoffAnswer: unknown) {
  let hear: (message: FleetMessage) => void = () => undefined;
  const published: FleetMessage[] = [];
  const link: FleetLink = {
    key: (name) => `test:${name}`,
    eval: async (script) => (script === BACKOFF_SCRIPT ? backoffAnswer : 1),
    publish: async (message) => void published.push(message),
    onMessage: (handler) => {
      hear = handler;
      return () => (hear = () => undefined);
    },
  };
  const clock = { now: 1_000_000 };
  const changes: CircuitChange[] = [];
  const circuit = createCircuit({
    now: () => clock.now,
    link: () => link,
    probeLockMs: 5_000,
    onChange: (change) => changes.push(change),
  });
  circuit.connect();
  return { circuit, clock, changes, published, hear: (m: FleetMessage) => hear(m) };
}

it('a back-off answer from Redis that is no positive number: the replica uses its own exponent', async () => {
  for (const answer of ['soon', 0, -5, null]) {
    const { circuit } = linked(answer);
    expect(await circuit.failed(await circuit.admit(), 'rate-limited')).toBe(1);
  }
});

it('a back-off answer from Redis above a minute is held to 60 s', async () => {
  const { circuit } = linked(3_600_000);
  expect(await circuit.failed(await circuit.admit(), 'rate-limited')).toBe(60);
});

it("a peer's circuit-closed while ours is closed reports no change; after a peer's opening it does", () => {
  const { circuit, changes, hear, published } = linked(1_000);
  hear({ type: 'circuit-closed' });
  expect(changes).toEqual([]);
  hear({ type: 'circuit', seconds: 4 });
  expect(circuit.state()).toEqual({ open: true, secondsLeft: 4 });
  hear({ type: 'circuit-closed' });
  expect(changes).toEqual([{ state: 'open', seconds: 4, cause: 'peer' }, { state: 'closed' }]);
  expect(circuit.state().open).toBe(false);
  // Neither the opening heard nor the closing heard is published again.
  expect(published).toEqual([]);
});

it('after close() the circuit no longer hears the fleet', () => {
  const { circuit, hear } = linked(1_000);
  circuit.close();
  hear({ type: 'circuit', seconds: 4 });
  expect(circuit.state().open).toBe(false);
});
