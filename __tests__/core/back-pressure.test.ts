import { createBackPressure } from '../../lib/back-pressure';
import { IntrospectionUnavailableError } from '../../lib/errors';

function refusal(admit: () => void): IntrospectionUnavailableError {
  try {
    admit();
  } catch (error) {
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    return error as IntrospectionUnavailableError;
  }
  throw new Error('admit() let the call through');
}

it('admits up to maxInFlight calls at once, and one more after a release', () => {
  const gate = createBackPressure({ maxInFlight: 2, now: () => 0 });
  gate.admit();
  gate.admit();
  expect(refusal(() => gate.admit()).message).toBe(
    'too many introspections in flight (maxInFlight 2)',
  );
  gate.release();
  expect(() => gate.admit()).not.toThrow();
  expect(() => gate.admit()).toThrow(IntrospectionUnavailableError);
});

it('refuses every call while open, with the rest of the wait (rounded up) as Retry-After', () => {
  let now = 1_000_000;
  const gate = createBackPressure({ maxInFlight: 10, now: () => now });
  gate.openFor(3);
  expect(refusal(() => gate.admit())).toMatchObject({
    message: 'ZITADEL asked us to back off (circuit open)',
    retryAfterSeconds: 3,
  });
  now += 2_500;
  expect(refusal(() => gate.admit()).retryAfterSeconds).toBe(1);
  now += 500;
  expect(() => gate.admit()).not.toThrow();
});

it('counts no call that it refused', () => {
  let now = 0;
  const gate = createBackPressure({ maxInFlight: 1, now: () => now });
  gate.openFor(1);
  for (let i = 0; i < 5; i++) expect(() => gate.admit()).toThrow();
  now = 1_000;
  gate.admit();
  expect(() => gate.admit()).toThrow(/maxInFlight 1/);
});
