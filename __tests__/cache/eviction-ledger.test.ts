/**
 * The eviction ledger on an injected clock: an eviction is never undone by
 * work that began before it, a later eviction time is never replaced by an
 * earlier one (messages arrive out of order; a reconnect's clear() has no
 * fleet time), markers outlive key marks, and old marks are forgotten.
 */
import { createEvictionLedger } from '../../lib/cache/eviction-ledger';

let clock: number;
const ledger = (options: { retainMs: number; markerRetainMs?: number }) =>
  createEvictionLedger({ ...options, now: () => clock });

beforeEach(() => {
  clock = 5_000_000;
});

it('work that began before an eviction of its key, subject or everything may not write', () => {
  const l = ledger({ retainMs: 60_000 });
  const before = l.begin(1_000);
  l.evict({ key: 'k' }, 1_100);
  expect(l.allows(before, 'k', 'alice')).toBe(false);
  expect(l.allows(before, 'other', 'alice')).toBe(true);
  expect(l.allows(before, 'other', undefined)).toBe(true);
  l.evict({ subject: 'alice' }, 1_200);
  expect(l.allows(before, 'other', 'alice')).toBe(false);
  expect(l.allows(before, 'other', 'bob')).toBe(true);
  const after = l.begin(1_300);
  expect(l.allows(after, 'k', 'alice')).toBe(true);
  l.evict({ all: true }, 1_400);
  expect(l.allows(after, 'other', undefined)).toBe(false);
});

it('a stored value older than an eviction of its key is covered; one stored later is not', () => {
  const l = ledger({ retainMs: 60_000 });
  l.evict({ key: 'k' }, 2_000);
  const read = l.begin(2_500);
  expect(l.covers('k', undefined, 1_999, read)).toBe(true);
  expect(l.covers('k', undefined, 2_000, read)).toBe(true);
  expect(l.covers('k', undefined, 2_001, read)).toBe(false);
  expect(l.covers('other', undefined, 1_000, read)).toBe(false);
  // An eviction recorded after the read began does not judge that read.
  const early = l.begin(2_500);
  l.evict({ key: 'late' }, 3_000);
  expect(l.covers('late', undefined, 2_900, early)).toBe(false);
  expect(l.covers('late', undefined, 2_900, l.begin(3_100))).toBe(true);
});

it('an eviction arriving with an earlier time keeps the later one (key and everything)', () => {
  const l = ledger({ retainMs: 60_000 });
  l.evict({ key: 'k' }, 9_000);
  l.evict({ key: 'k' }, 4_000); // e.g. a peer's message that was slower than our own eviction
  expect(l.covers('k', undefined, 8_000, l.begin(0))).toBe(true);
  l.evict({ all: true }, 7_000);
  // The subscriber reconnected: memory is cleared as of no fleet time, the epoch stays.
  l.evict({ all: true }, Number.NEGATIVE_INFINITY);
  expect(l.covers('x', undefined, 6_500, l.begin(0))).toBe(true);
  expect(l.evictedAt({})).toBe(7_000);
});

it('evictedAt is the latest of the jti, subject, session and fleet-wide marks', () => {
  const l = ledger({ retainMs: 60_000 });
  expect(l.evictedAt({ jti: 'j', subject: 's', session: 'x' })).toBeUndefined();
  l.evict({ all: true }, 3_000);
  l.evict({ subject: 's' }, 1_000);
  l.evict({ key: 'k', jti: 'j' }, 2_000);
  l.evict({ session: 'x' }, 5_000);
  expect(l.evictedAt({ subject: 's' })).toBe(3_000);
  expect(l.evictedAt({ jti: 'j', subject: 's' })).toBe(3_000);
  expect(l.evictedAt({ jti: 'j', session: 'x' })).toBe(5_000);
  expect(l.evictedAt({ jti: 'unknown' })).toBe(3_000);
});

it('key marks live retainMs; subject, jti and fleet-wide markers live markerRetainMs', () => {
  const l = ledger({ retainMs: 10_000, markerRetainMs: 100_000 });
  l.evict({ key: 'k', jti: 'j' }, 1_000);
  l.evict({ subject: 's' }, 1_000);
  clock += 10_001;
  expect(l.covers('k', undefined, 500, l.begin(0))).toBe(false);
  expect(l.evictedAt({ jti: 'j' })).toBe(1_000);
  expect(l.covers('k2', 's', 500, l.begin(0))).toBe(true);
  clock += 90_000;
  expect(l.evictedAt({ jti: 'j', subject: 's' })).toBeUndefined();
});

it('without markerRetainMs every mark lives retainMs', () => {
  const l = ledger({ retainMs: 10_000 });
  l.evict({ subject: 's' }, 1_000);
  clock += 9_999;
  expect(l.evictedAt({ subject: 's' })).toBe(1_000);
  clock += 2;
  expect(l.evictedAt({ subject: 's' })).toBeUndefined();
});

it('stays bounded: beyond 1,024 marks the forgotten ones are pruned, live ones kept', () => {
  const l = ledger({ retainMs: 10_000 });
  const old = l.begin(0);
  for (let i = 0; i < 1_000; i++) l.evict({ key: `old-${i}` }, 1_000);
  clock += 10_001; // every old mark is past its retention
  for (let i = 0; i < 100; i++) l.evict({ key: `new-${i}` }, 2_000);
  // A pruned mark no longer holds back even work older than it (none can be that old).
  expect(l.allows(old, 'old-0', undefined)).toBe(true);
  expect(l.allows(old, 'old-999', undefined)).toBe(true);
  expect(l.allows(old, 'new-0', undefined)).toBe(false);
  expect(l.allows(old, 'new-99', undefined)).toBe(false);
  expect(l.covers('new-0', undefined, 1_500, l.begin(0))).toBe(true);
});
