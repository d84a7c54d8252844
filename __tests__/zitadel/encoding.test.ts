import {
  basicCredentials,
  formUrlEncode,
  parseRetryAfter,
  redactSecrets,
} from '../../lib/zitadel/encoding';
import { decodeBasic } from './helpers';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ['120', 120],
    [' 7 ', 7],
    ['0', 0],
    ['-3', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['Thu, 01 Jan 2026 12:00:30 GMT', 30],
    ['Thu, 01 Jan 2026 11:59:00 GMT', 0],
  ])('%p → %p', (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });

  it('rounds a date with a fraction of a second left up', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:10 GMT', now + 200)).toBe(10);
  });
});

describe('formUrlEncode', () => {
  it('encodes as application/x-www-form-urlencoded (space as +)', () => {
    expect(formUrlEncode('a:b@c')).toBe('a%3Ab%40c');
    expect(formUrlEncode('p%&+ é')).toBe('p%25%26%2B+%C3%A9');
  });
});

describe('redactSecrets', () => {
  it('cuts secrets in raw and encoded form, blanks control characters, caps the length', () => {
    expect(redactSecrets('x a b~ y a%20b~ z a+b%7E \n', ['a b~', ''], 100)).toBe(
      'x [redacted] y [redacted] z [redacted]  ',
    );
    expect(redactSecrets('abcdef', [], 3)).toBe('abc');
  });
});

describe('basicCredentials', () => {
  it('encodes id and secret before Base64, so a colon in the id survives', () => {
    const encoded = basicCredentials('a:b@c', 'p%&+ é');
    expect(Buffer.from(encoded, 'base64').toString()).toBe('a%3Ab%40c:p%25%26%2B+%C3%A9');
    expect(decodeBasic(`Basic ${encoded}`)).toEqual({ id: 'a:b@c', secret: 'p%&+ é' });
  });
});
