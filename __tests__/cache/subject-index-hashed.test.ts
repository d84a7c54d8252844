/**
 * The subject index keeps owner ids only as 30-bit hashes and maps no key
 * back to its owners (see lib/cache/subject-index.ts). These tests pin what
 * that must not change: two owners whose ids share a hash never evict each
 * other's entries, a key re-cached for another owner is found under the new
 * one only, and the index stays bounded by the memory tier.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createSubjectIndex, ownerSlot, type IndexOwner } from '../../lib/cache/subject-index';
import { active, makeCache, testClock } from './fixtures';

/**
 * Two distinct strings `prefix` + random whose ids land in the same bucket: a
 * birthday search, ~2^15 tries (random suffixes; FNV-1a spreads ids that
 * differ only in a counter too evenly to collide soon).
 */
function collidingPair(prefix: string, id: (raw: string) => string = (raw) => raw) {
  const seen = new Map<number, string>();
  let state = randomBytes(4).readUInt32LE() | 1;
  for (let i = 0; i < 2_000_000; i++) {
    // xorshift32: random enough, and far cheaper per try than randomBytes.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const raw = `${prefix}${(state >>> 0).toString(36)}${i.toString(36)}`;
    const slot = ownerSlot(id(raw));
    const other = seen.get(slot);
    if (other !== undefined) return [other, raw] as const;
    seen.set(slot, raw);
  }
  throw new Error('no colliding pair found');
}

// A collision search costs ~2^15 hashes (HMACs in some tests): generous on a loaded machine.
jest.setTimeout(30_000);

/** ids as the fleet's envelope makes them: an HMAC per kind. */
const hmacId = (kind: string, raw: string): string =>
  createHmac('sha256', 'test-secret').update(`${kind}\n${raw}`).digest('base64url');

describe('subject index on its own', () => {
  it('puts ids in 30-bit buckets, the same for the same id', () => {
    const slot = ownerSlot('user-1');
    expect(ownerSlot('user-1')).toBe(slot);
    expect(Number.isInteger(slot) && slot >= 0 && slot < 2 ** 30).toBe(true);
    expect(ownerSlot('user-2')).not.toBe(slot);
  });

  it('returns a key added twice once, and forgets a removed key under both its owners', () => {
    const index = createSubjectIndex(() => true, 10);
    index.add('k', 'alice', 'session-1');
    index.add('k', 'alice', 'session-1');
    index.add('k2', 'alice', undefined);
    index.add('k3', 'alice', undefined);
    index.add('k3', 'alice', undefined); // already in alice's set
    index.add('bob-key', 'bob', undefined);
    index.remove('k3', 'bob', undefined); // bob's one key is another
    index.remove('k', 'alice', 'session-1');
    index.remove('k', 'alice', 'session-1'); // already gone: nothing happens
    index.remove('k', 'nobody', undefined);
    index.remove('k2', undefined, undefined);
    expect(index.take({ session: 'session-1' })).toEqual([]);
    expect(index.take({ subject: 'alice' }).sort()).toEqual(['k2', 'k3']);
    expect(index.take({ subject: 'alice' })).toEqual([]);
    expect(index.take({ subject: 'bob' })).toEqual(['bob-key']);
  });

  it('takes only the keys owns() confirms and keeps the rest of a shared bucket', () => {
    const [a, b] = collidingPair('user-');
    const owner = new Map([
      ['ka', a],
      ['kb', b],
      ['ka2', a],
    ]);
    const owns = (key: string, wanted: IndexOwner) =>
      'subject' in wanted && owner.get(key) === wanted.subject;
    const index = createSubjectIndex(() => true, 10, owns);
    index.add('ka', a, undefined);
    index.add('kb', b, undefined);
    index.add('ka2', a, undefined);
    expect(index.take({ subject: a }).sort()).toEqual(['ka', 'ka2']);
    expect(index.take({ subject: b })).toEqual(['kb']);
    expect(index.take({ subject: b })).toEqual([]);
  });

  it('without owns(), a shared bucket answers for every key in it', () => {
    const [a, b] = collidingPair('session-');
    const index = createSubjectIndex(() => true, 10);
    index.add('ka', undefined, a);
    index.add('kb', undefined, b);
    expect(index.take({ session: a }).sort()).toEqual(['ka', 'kb']);
  });

  it('prunes one-key buckets of keys the tier dropped once it outgrows the tier', () => {
    const held = new Set<string>();
    const index = createSubjectIndex((key) => held.has(key), 2);
    for (let i = 0; i < 21; i++) {
      held.add(`k${i}`);
      if (i >= 2) held.delete(`k${i - 2}`); // the tier keeps the last two
      index.add(`k${i}`, `user-${i}`, `session-${i}`);
    }
    // Past 2 × 2 + 16 references of a kind, every key the tier no longer has went.
    expect(index.take({ subject: 'user-0' })).toEqual([]);
    expect(index.take({ session: 'session-18' })).toEqual([]);
    expect(index.take({ subject: 'user-19' })).toEqual(['k19']);
    expect(index.take({ session: 'session-20' })).toEqual(['k20']);
    index.clear();
    expect(index.take({ session: 'session-19' })).toEqual([]);
  });
});

describe('result cache: evictions through the hashed index', () => {
  const exp = testClock().sec(3600);
  const claims = (sub: string, jti?: string) => ({ ...active(sub, exp), jti });

  it.each([
    ['raw ids (no envelope yet)', undefined],
    ['HMAC ids', hmacId],
  ])('two users whose subject ids share a bucket keep each other’s entries (%s)', async (_, id) => {
    const ownerId = id ?? ((_kind: string, raw: string) => raw);
    const [alice, bob] = collidingPair('3012556', (raw) => ownerId('subject', raw));
    const { cache } = makeCache(testClock(), { ownerId });
    await cache.set('alice-token', { claims: claims(alice), value: { sub: alice } });
    await cache.set('bob-token', { claims: claims(bob), value: { sub: bob } });
    cache.drop({ subject: ownerId('subject', alice) }, 0);
    expect(cache.peek('alice-token')).toBeUndefined();
    expect(cache.peek('bob-token')).toEqual(expect.objectContaining({ active: true }));
    cache.drop({ subject: ownerId('subject', bob) }, 0);
    expect(cache.peek('bob-token')).toBeUndefined();
  });

  it('two sessions whose ids share a bucket keep each other’s entries', async () => {
    const ownerId = hmacId;
    const [one, two] = collidingPair('V2_', (raw) => ownerId('session', raw));
    const { cache } = makeCache(testClock(), { ownerId });
    await cache.set('t1', { claims: claims('same-user', `${one}-at_1`), value: { sub: 'u' } });
    await cache.set('t2', { claims: claims('same-user', `${two}.at_2`), value: { sub: 'u' } });
    cache.drop({ session: ownerId('session', one) }, 0);
    expect(cache.peek('t1')).toBeUndefined();
    expect(cache.peek('t2')).toEqual(expect.objectContaining({ active: true }));
  });

  it('a key cached again for another subject and session is found under the new ones only', async () => {
    const { cache } = makeCache(testClock());
    await cache.set('k', { claims: claims('alice', 's1.at_1'), value: { sub: 'alice' } });
    await cache.set('k', { claims: claims('alice', 's1.at_1'), value: { sub: 'alice' } });
    await cache.set('k', { claims: claims('bob', 's2.at_2'), value: { sub: 'bob' } });
    cache.drop({ subject: 'alice' }, 0);
    cache.drop({ session: 's1' }, 0);
    expect(cache.peek('k')).toMatchObject({ active: true, value: { sub: 'bob' } });
    expect(cache.peek('k')).not.toMatchObject({ refreshDue: true });
    cache.drop({ session: 's2' }, 0);
    expect(cache.peek('k')).toBeUndefined();
    // Active for bob, then inactive (another session): no longer bob's.
    await cache.set('k', { claims: claims('bob', 's2.at_2'), value: { sub: 'bob' } });
    await cache.set('k', {
      claims: { active: false, sub: 'bob', jti: 's3.at_3' },
      value: undefined,
    });
    cache.drop({ subject: 'bob' }, 0);
    cache.drop({ session: 's2' }, 0);
    expect(cache.peek('k')).toMatchObject({ active: false });
    cache.drop({ session: 's3' }, 0);
    expect(cache.peek('k')).toBeUndefined();
  });

  it('an inactive answer with a session id goes with its session, never with a subject', async () => {
    const { cache } = makeCache(testClock());
    const inactive = { active: false, sub: 'alice', jti: 's1.at_1' };
    await cache.set('k', { claims: inactive, value: undefined });
    cache.drop({ subject: 'alice' }, 0);
    expect(cache.peek('k')).toMatchObject({ active: false });
    cache.drop({ session: 's1' }, 0);
    expect(cache.peek('k')).toBeUndefined();
  });

  it('a session eviction still marks a key the LRU already pushed out (work in flight for it is not written)', async () => {
    const { cache } = makeCache(testClock(), { maxEntries: 1 });
    await cache.set('k1', { claims: claims('alice', 's1.at_1'), value: { sub: 'alice' } });
    await cache.set('k2', { claims: claims('bob', 's2.at_2'), value: { sub: 'bob' } });
    expect(cache.peek('k1')).toBeUndefined(); // pushed out by k2
    const work = cache.begin();
    cache.drop({ session: 's1' }, 0);
    await cache.set('k1', { claims: claims('alice', 's1.at_1'), value: { sub: 'alice' } }, work);
    expect(cache.peek('k1')).toBeUndefined();
    expect(cache.peek('k2')).toEqual(expect.objectContaining({ active: true }));
  });
});
