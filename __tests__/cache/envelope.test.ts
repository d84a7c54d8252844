import { generateKeyPairSync } from 'node:crypto';
import { createEnvelope, envelopeSecret } from '../../lib/cache/envelope';
import { unverifiedJti } from '../../lib/cache/token-jti';
import { sessionOf } from '../../lib/cache/subject-index';

describe('envelope', () => {
  const envelope = createEnvelope(Buffer.from('a secret of enough length'));

  it('opens what it sealed, in its own context only', () => {
    const sealed = envelope.seal('cache:k1', '{"a":1}');
    expect(sealed.startsWith('z1.')).toBe(true);
    expect(sealed).not.toContain('"a"');
    expect(envelope.open('cache:k1', sealed)).toBe('{"a":1}');
    // Moved to another key: does not open.
    expect(envelope.open('cache:k2', sealed)).toBeUndefined();
  });

  it('refuses forged, truncated, tampered and foreign-key values', () => {
    const sealed = envelope.seal('c', 'hello');
    const other = createEnvelope(Buffer.from('another secret, same length'));
    expect(other.open('c', sealed)).toBeUndefined();
    expect(envelope.open('c', '{"claims":{}}')).toBeUndefined();
    expect(envelope.open('c', 'z1.AAAA')).toBeUndefined();
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[14] ^= 1;
    expect(envelope.open('c', `z1.${bytes.toString('base64url')}`)).toBeUndefined();
    expect(envelope.open('c', 42 as never)).toBeUndefined();
  });

  it('derives keyed ids: stable, distinct per kind and key, never the raw value', () => {
    const id = envelope.id('subject', '301255683459087361');
    expect(id).toBe(envelope.id('subject', '301255683459087361'));
    expect(id).not.toBe(envelope.id('session', '301255683459087361'));
    expect(id).not.toContain('301255683459087361');
    expect(createEnvelope(Buffer.from('x'.repeat(20))).id('subject', '1')).not.toBe(
      envelope.id('subject', '1'),
    );
  });

  it('takes its secret from storeSecret, the client secret or the private key', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const key = { method: 'private_key_jwt', clientId: 'c', key: { privateKey } } as never;
    const secret = { method: 'client_secret_basic', clientId: 'c', clientSecret: 's' } as const;
    const fromKey = envelopeSecret(key);
    expect(fromKey.length).toBeGreaterThan(100);
    expect(envelopeSecret(secret).toString()).toContain('client-secret');
    expect(envelopeSecret(secret, 'override-secret-123')).toEqual(
      envelopeSecret(key, 'override-secret-123'),
    );
  });
});

describe('token ids', () => {
  it('reads the jti of a JWT payload without trusting it', () => {
    const payload = Buffer.from(JSON.stringify({ jti: '312.at_9' })).toString('base64url');
    expect(unverifiedJti(`h.${payload}.s`)).toBe('312.at_9');
    expect(unverifiedJti('opaque-token')).toBeUndefined();
    expect(unverifiedJti('a.!!!.c')).toBeUndefined();
    expect(unverifiedJti(`h.${Buffer.from('{}').toString('base64url')}.s`)).toBeUndefined();
  });

  it('takes the session id before the first "." or "-"', () => {
    expect(sessionOf('312909.at_1')).toBe('312909');
    expect(sessionOf('312909-at-1')).toBe('312909');
    expect(sessionOf('plain')).toBeUndefined();
    expect(sessionOf(7)).toBeUndefined();
  });
});
