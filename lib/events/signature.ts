/**
 * The `ZITADEL-Signature` header of an Actions v2 webhook call, checked as
 * ZITADEL's own verifier does (`pkg/actions/signing.go`): an HMAC-SHA256 over
 * `t + "." + raw body`, a timestamp no older than 300 s, and — our addition —
 * no more than 60 s in the future (a clock far ahead is not ZITADEL).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old a signature may be (ZITADEL's verifier allows the same). */
export const MAX_SIGNATURE_AGE_SECONDS = 300;
/** How far in the future a signature's `t` may lie (clock skew between ZITADEL and us). */
export const MAX_SIGNATURE_FUTURE_SECONDS = 60;

/** Why a signature was refused; safe to log (never carries the header, a key or the body). */
export type SignatureFault =
  | 'missing header'
  | 'malformed header'
  | 'timestamp too old'
  | 'timestamp in the future'
  | 'no matching signature';

/** A parsed header: the timestamp and every `v1` signature, as lower-case hex. */
export interface SignatureHeader {
  t: number;
  v1: string[];
}

/**
 * Checks `header` against `body` with each of `keys` (several keys for a
 * rotation; several `v1` in the header for ZITADEL's side of one).
 * Every comparison is constant-time.
 *
 * @example
 * ```ts
 * const fault = verifySignature({ header: req.get('zitadel-signature'), body, keys: ['key'], nowSeconds: Date.now() / 1000 });
 * if (fault) return res.status(401).end();
 * ```
 */
export function verifySignature(input: {
  header: string | undefined;
  body: Buffer;
  keys: readonly string[];
  nowSeconds: number;
}): SignatureFault | undefined {
  if (input.header === undefined || input.header === '') return 'missing header';
  const parsed = parseSignatureHeader(input.header);
  if (!parsed) return 'malformed header';
  if (input.nowSeconds - parsed.t > MAX_SIGNATURE_AGE_SECONDS) return 'timestamp too old';
  if (parsed.t - input.nowSeconds > MAX_SIGNATURE_FUTURE_SECONDS) return 'timestamp in the future';
  const given = parsed.v1.map((hex) => Buffer.from(hex, 'hex'));
  let matched = false;
  for (const key of input.keys) {
    const expected = hmac(key, parsed.t, input.body);
    // No early exit: every key is compared against every v1, so the time
    // taken does not tell which one matched.
    for (const candidate of given) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        matched = true;
      }
    }
  }
  return matched ? undefined : 'no matching signature';
}

/**
 * Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: every part must be `k=v`,
 * `t` a non-negative integer present once, at least one `v1` of 64 hex
 * digits. Unknown keys (a future `v2`) are allowed and ignored.
 *
 * @example
 * ```ts
 * parseSignatureHeader('t=1700000000,v1=c8a7…'); // { t: 1700000000, v1: ['c8a7…'] }
 * ```
 */
export function parseSignatureHeader(header: string): SignatureHeader | undefined {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) return undefined;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (value === '') return undefined;
    if (name === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
      v1.push(value.toLowerCase());
    }
  }
  if (t === undefined || v1.length === 0) return undefined;
  return { t, v1 };
}

/**
 * The header ZITADEL would send for `body` at `t` (one `v1` per key): for
 * tests and for anyone replaying a captured event to their own endpoint.
 *
 * @example
 * ```ts
 * const header = signEvent(['test-signing-key'], 1700000000, body);
 * // 't=1700000000,v1=c8a7727c…'
 * ```
 */
export function signEvent(keys: readonly string[], t: number, body: Buffer | string): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return [`t=${t}`, ...keys.map((key) => `v1=${hmac(key, t, bytes).toString('hex')}`)].join(',');
}

function hmac(key: string, t: number, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${t}.`).update(body).digest();
}
