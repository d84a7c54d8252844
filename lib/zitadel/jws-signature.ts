/**
 * JWS signatures checked by jose (DESIGN: local verification is built on
 * jose), against a public key imported once per JWKS fetch and `kid` rather
 * than through `createLocalJWKSet` per token. Which JWK may verify which
 * `alg` follows jose's own JWKS selection (RFC 7518 §3): key type and curve
 * of the algorithm, the JWK's `alg`/`use`/`key_ops`, RSA keys of at least
 * 2048 bits, ECDSA signatures as fixed-size `r ‖ s`, EdDSA as Ed25519.
 * (A verifier on node:crypto directly saved another ~40 µs of CPU per ES256
 * token, ~5 % of a cold request: not worth leaving jose for.)
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { flattenedVerify, type JWK } from 'jose';

interface AlgorithmRule {
  kty: 'RSA' | 'EC' | 'OKP';
  /** EC / OKP: the JWK's `crv`. */
  crv?: string;
  /** ECDSA: the exact length of `r ‖ s`. */
  signatureBytes?: number;
}

const RULES = new Map<string, AlgorithmRule>([
  ['RS256', { kty: 'RSA' }],
  ['RS384', { kty: 'RSA' }],
  ['RS512', { kty: 'RSA' }],
  ['PS256', { kty: 'RSA' }],
  ['PS384', { kty: 'RSA' }],
  ['PS512', { kty: 'RSA' }],
  ['ES256', { kty: 'EC', crv: 'P-256', signatureBytes: 64 }],
  ['ES384', { kty: 'EC', crv: 'P-384', signatureBytes: 96 }],
  ['ES512', { kty: 'EC', crv: 'P-521', signatureBytes: 132 }],
  ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
]);

/** RFC 7518 §3.3: RSA keys for JWS are at least 2048 bits (jose enforces it too). */
const MIN_RSA_BITS = 2048;

/**
 * Imports a JWKS member as a public key, or `undefined` when it is not one
 * (private key material, an unknown or broken key). Called once per `kid`
 * and fetched set, never per token.
 *
 * @example
 * ```ts
 * const key = importPublicKey({ kty: 'EC', crv: 'P-256', x, y, kid: 'k1' });
 * ```
 */
export function importPublicKey(jwk: JWK): KeyObject | undefined {
  // A JWKS publishes public keys; one carrying `d` is a leak or a mistake, never ours to use.
  if ('d' in jwk || jwk.kty === 'oct') return undefined;
  try {
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the JWK may verify `alg`, by jose's rules for a JWKS: the key type
 * and curve of the algorithm, `alg` equal when the JWK names one, `use`
 * `sig` and `key_ops` containing `verify` when present, and (RSA) a modulus
 * of at least 2048 bits.
 *
 * @example
 * ```ts
 * keyFits(jwk, key, 'ES256'); // false for an RSA key published under that kid
 * ```
 */
export function keyFits(jwk: JWK, key: KeyObject, alg: string): boolean {
  const rule = RULES.get(alg);
  if (!rule || jwk.kty !== rule.kty) return false;
  if (rule.crv !== undefined && jwk.crv !== rule.crv) return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify')) return false;
  }
  if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') return false;
  if (rule.kty === 'RSA') {
    return (
      key.asymmetricKeyType === 'rsa' &&
      (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
    );
  }
  return key.asymmetricKeyType === (rule.kty === 'EC' ? 'ec' : 'ed25519');
}

/**
 * Verifies a JWS signature (`signature`: the token's third segment, still
 * base64url — jose decodes it, so it is not decoded here too) over
 * `signingInput` (the token up to its last dot) with jose's
 * `flattenedVerify`, against a key imported once (jose keeps its CryptoKey
 * per key and `alg`, so nothing is converted per token; WebCrypto verifies
 * off the event loop). Never rejects: anything jose refuses is `false`.
 *
 * @example
 * ```ts
 * const dot = token.lastIndexOf('.');
 * await verifySignature('ES256', key, token.slice(0, dot), token.slice(dot + 1));
 * ```
 */
export async function verifySignature(
  alg: string,
  key: KeyObject,
  signingInput: string,
  signature: string,
): Promise<boolean> {
  const rule = RULES.get(alg);
  const dot = signingInput.indexOf('.');
  if (!rule || dot < 0) return false;
  // Fixed-size r ‖ s: a DER signature or a truncated one is not a JWS signature.
  // (byteLength counts the decoded bytes from the length alone, without decoding.)
  if (
    rule.signatureBytes !== undefined &&
    Buffer.byteLength(signature, 'base64url') !== rule.signatureBytes
  ) {
    return false;
  }
  try {
    await flattenedVerify(
      {
        protected: signingInput.slice(0, dot),
        payload: signingInput.slice(dot + 1),
        signature,
      },
      key,
      { algorithms: [alg] },
    );
    return true;
  } catch {
    return false;
  }
}
