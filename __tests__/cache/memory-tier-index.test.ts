/**
 * The memory tier's `has` (a stale copy still counts, a dropped entry not)
 * and the subject index built on it: bounded by the tier, so keys the LRU
 * pushed out are forgotten by the index too.
 */
import { createMemoryTier } from '../../lib/cache/memory-store';
import { createSubjectIndex } from '../../lib/cache/subject-index';

it('has() holds fresh entries and stale copies, not deleted or expired-beyond-stale ones', () => {
  const tier = createMemoryTier<string>({ maxEntries: 10, staleIfErrorMs: 1_000 });
  tier.set('k', { active: true, value: 'v', expiresAt: 100, tokenExpiresAt: 10_000 });
  expect(tier.has('k')).toBe(true);
  expect(tier.fresh('k', 500)).toBeUndefined(); // expired, but kept as a stale copy
  expect(tier.has('k')).toBe(true);
  expect(tier.stale('k', 500)).toBe('v');
  expect(tier.stale('k', 1_200)).toBeUndefined(); // the stale window closed: dropped
  expect(tier.has('k')).toBe(false);
  tier.set('k', { active: false, expiresAt: 100 });
  tier.delete('k');
  expect(tier.has('k')).toBe(false);
});

it('a tier turned off (maxEntries 0) holds nothing', () => {
  const tier = createMemoryTier<string>({ maxEntries: 0, staleIfErrorMs: 1_000 });
  tier.set('k', { active: true, value: 'v', expiresAt: 100, tokenExpiresAt: 10_000 });
  expect(tier.has('k')).toBe(false);
  expect(tier.fresh('k', 0)).toBeUndefined();
});

it('the subject index forgets keys the memory tier no longer holds, and keeps the rest', () => {
  const tier = createMemoryTier<string>({ maxEntries: 2, staleIfErrorMs: 0 });
  const index = createSubjectIndex(tier.has, 2);
  const put = (key: string, subject: string) => {
    tier.set(key, { active: true, value: key, expiresAt: 1e15, tokenExpiresAt: 1e15 });
    index.add(key, subject, undefined);
  };
  // Far more keys than the tier holds (it keeps the last two): past 2 × 2 + 16
  // indexed keys, the index drops every key the tier no longer has.
  for (let i = 0; i < 21; i++) put(`old-${i}`, 'alice');
  expect(index.take({ subject: 'alice' }).sort()).toEqual(['old-19', 'old-20']);
  put('bob-1', 'bob');
  expect(index.take({ subject: 'bob' })).toEqual(['bob-1']);
});

it('a key indexed by session only is found by its session, not by any subject', () => {
  const index = createSubjectIndex(() => true, 10);
  index.add('k', undefined, 'session-1');
  index.add('nobody', undefined, undefined);
  expect(index.take({ subject: 'session-1' })).toEqual([]);
  expect(index.take({ session: 'session-1' })).toEqual(['k']);
  expect(index.take({ session: 'session-1' })).toEqual([]);
});
