import { createHmac, hkdfSync } from 'node:crypto';
import { createEnvelope } from '../../lib/cache/envelope';
import { createEvictionLedger } from '../../lib/cache/eviction-ledger';

describe('envelope ids, remembered', () => {
  const secret = Buffer.from('a secret of enough length');
  const idKey = Buffer.from(
    hkdfSync('sha256', secret, 'express-zitadel-introspection/fleet', 'hmac-sha256 ids v1', 32),
  );
  const expected = (kind: string, value: string) =>
    createHmac('sha256', idKey).update(`${kind}\n${value}`).digest('base64url');

  it('is the HMAC of kind and value, the same before and after the memo fills and clears', () => {
    const envelope = createEnvelope(secret);
    const first = envelope.id('subject', 'user-0');
    expect(first).toBe(expected('subject', 'user-0'));
    expect(envelope.id('subject', 'user-0')).toBe(first);
    // More ids than the memo holds: it clears, and every id is still the HMAC.
    for (let i = 1; i <= 1100; i++) {
      expect(envelope.id('jti', `j-${i}`)).toBe(expected('jti', `j-${i}`));
    }
    expect(envelope.id('subject', 'user-0')).toBe(first);
    expect(envelope.id('session', 'user-0')).not.toBe(first);
  });
});

describe('eviction ledger, hasMarkers', () => {
  it.each([
    ['a jti', { key: 'k', jti: 'j' }],
    ['a subject', { subject: 's' }],
    ['a session', { session: 'x' }],
    ['everything', { all: true as const }],
  ])('is false until %s is marked', (_name, target) => {
    const ledger = createEvictionLedger({ retainMs: 1000, now: Date.now });
    expect(ledger.hasMarkers()).toBe(false);
    ledger.evict(target, Date.now());
    expect(ledger.hasMarkers()).toBe(true);
  });

  it('a key evicted without a jti leaves no marker (only its key mark)', () => {
    const ledger = createEvictionLedger({ retainMs: 1000, now: Date.now });
    ledger.evict({ key: 'k' }, Date.now());
    expect(ledger.hasMarkers()).toBe(false);
  });
});
