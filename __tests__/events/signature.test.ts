import {
  parseSignatureHeader,
  signEvent,
  verifySignature,
  type SignatureFault,
} from '../../lib/events/signature';

// ZITADEL's own test vector (pkg/actions/signing.go).
const KEY = 'test-signing-key';
const T = 1700000000;
const BODY = Buffer.from('{"aggregateID":"123","event_type":"user.deactivated"}');
const V1 = 'c8a7727c417f590a1c2c81d37781cf7debdaca01aebef0dc01a5d8ee3eb7fa3e';
const HEADER = `t=${T},v1=${V1}`;

function verify(
  header: string | undefined,
  { body = BODY, keys = [KEY], nowSeconds = T } = {},
): SignatureFault | undefined {
  return verifySignature({ header, body, keys, nowSeconds });
}

describe('ZITADEL-Signature', () => {
  it("verifies ZITADEL's test vector and signs it the same", () => {
    expect(verify(HEADER)).toBeUndefined();
    expect(signEvent([KEY], T, BODY)).toBe(HEADER);
    expect(signEvent([KEY], T, BODY.toString())).toBe(HEADER);
  });

  it('refuses a changed body, a changed t, a wrong key and an empty key', () => {
    expect(verify(HEADER, { body: Buffer.from(BODY.toString().replace('123', '124')) })).toBe(
      'no matching signature',
    );
    expect(verify(HEADER, { body: Buffer.concat([BODY, Buffer.from(' ')]) })).toBe(
      'no matching signature',
    );
    expect(verify(`t=${T + 1},v1=${V1}`)).toBe('no matching signature');
    expect(verify(HEADER, { keys: ['other-key'] })).toBe('no matching signature');
    expect(verify(HEADER, { keys: [''] })).toBe('no matching signature');
    expect(verify(HEADER, { keys: [] })).toBe('no matching signature');
  });

  it('allows 300 s of age and 60 s ahead, not one second more', () => {
    expect(verify(HEADER, { nowSeconds: T + 300 })).toBeUndefined();
    expect(verify(HEADER, { nowSeconds: T + 301 })).toBe('timestamp too old');
    expect(verify(HEADER, { nowSeconds: T - 60 })).toBeUndefined();
    expect(verify(HEADER, { nowSeconds: T - 61 })).toBe('timestamp in the future');
  });

  it('refuses a missing or malformed header', () => {
    expect(verify(undefined)).toBe('missing header');
    expect(verify('')).toBe('missing header');
    for (const header of [
      `v1=${V1}`, // no t
      `t=${T}`, // no v1
      `t=${T},v1=${V1},junk`, // a part without =
      `t=${T},=${V1}`, // empty name
      `t=,v1=${V1}`, // empty value
      `t=${T},t=${T},v1=${V1}`, // t twice
      `t=-1,v1=${V1}`,
      `t=1.5,v1=${V1}`,
      `t=abc,v1=${V1}`,
      `t=${T},v1=${V1.slice(2)}`, // short hex
      `t=${T},v1=${V1.replace('c', 'g')}`, // not hex
      `t=${T};v1=${V1}`,
      'Bearer abc',
    ]) {
      expect([header, verify(header)]).toEqual([header, 'malformed header']);
    }
  });

  it('accepts any of several v1 (ZITADEL rotating) and any of several keys (us rotating)', () => {
    const other = 'f'.repeat(64);
    expect(verify(`t=${T},v1=${other},v1=${V1}`)).toBeUndefined();
    expect(verify(`t=${T},v1=${V1},v1=${other}`)).toBeUndefined();
    expect(verify(HEADER, { keys: ['old-key', KEY] })).toBeUndefined();
    expect(verify(signEvent(['a', 'b'], T, BODY), { keys: ['b'] })).toBeUndefined();
    expect(verify(`t=${T},v1=${other}`)).toBe('no matching signature');
  });

  it('tolerates spaces, upper-case hex and unknown parts (a future v2)', () => {
    expect(verify(`t=${T}, v1=${V1.toUpperCase()}, v2=zzz`)).toBeUndefined();
    expect(parseSignatureHeader(`t=${T},v1=${V1},v1=${V1}`)).toEqual({ t: T, v1: [V1, V1] });
  });
});
