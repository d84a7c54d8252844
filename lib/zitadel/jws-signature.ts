/**
 * JWS signatures checked with node:crypto directly, in the thread pool,
 * against a public key imported once per JWKS fetch. jose's `jwtVerify` goes
 * through WebCrypto, which for every token normalizes the algorithm,
 * validates a WebIDL dictionary, converts the key and resolves through its
 * job machinery: on a cold local verification that was a quarter of the
 * server's CPU (bench `jwt-cold`, docs/local-jwt.md).
 * The rules are jose's (RFC 7518 §3): which JWK may verify which `alg`, RSA
 * keys of at least 2048 bits, PSS with the hash's length as salt, ECDSA
 * signatures as fixed-size `r ‖ s` on the JWK's curve, EdDSA as Ed25519.
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

interface AlgorithmRule {
  kty: 'RSA' | 'EC' | 'OKP';
  /** node:crypto's digest name; `null` for EdDSA (the hash is part of the scheme). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** EC / OKP: the JWK's `crv`. */
  crv?: string;
  /** RSA-PSS: the salt length in bytes. */
  saltLength?: number;
  /** ECDSA: the exact length of `r ‖ s`. */
  signatureBytes?: number;
}

const RULES = new Map<string, AlgorithmRule>([
  ['RS256', { kty: 'RSA', hash: 'sha256' }],
  ['RS384', { kty: 'RSA', hash: 'sha384' }],
  ['RS512', { kty: 'RSA', hash: 'sha512' }],
  ['PS256', { kty: 'RSA', hash: 'sha256', saltLength: 32 }],
  ['PS384', { kty: 'RSA', hash: 'sha384', saltLength: 48 }],
  ['PS512', { kty: 'RSA', hash: 'sha512', saltLength: 64 }],
  ['ES256', { kty: 'EC', hash: 'sha256', crv: 'P-256', signatureBytes: 64 }],
  ['ES384', { kty: 'EC', hash: 'sha384', crv: 'P-384', signatureBytes: 96 }],
  ['ES512', { kty: 'EC', hash: 'sha512', crv: 'P-521', signatureBytes: 132 }],
  ['EdDSA', { kty: 'OKP', hash: null, crv: 'Ed25519' }],
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
 * Verifies a JWS signature (`signature` decoded from base64url) over
 * `signingInput` (the token up to its last dot), in libuv's thread pool
 * (node:crypto's callback form): the event loop, which also parses and
 * answers every request, spends ~10 µs per token instead of the whole
 * verification. Never rejects: anything node:crypto cannot verify is `false`.
 *
 * @example
 * ```ts
 * const dot = token.lastIndexOf('.');
 * await verifySignature('ES256', key, token.slice(0, dot), Buffer.from(token.slice(dot + 1), 'base64url'));
 * ```
 */
export function verifySignature(
  alg: string,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
): Promise<boolean> {
  const rule = RULES.get(alg);
  if (!rule) return Promise.resolve(false);
  // Fixed-size r ‖ s: a DER signature or a truncated one is not a JWS signature.
  if (rule.signatureBytes !== undefined && signature.length !== rule.signatureBytes) {
    return Promise.resolve(false);
  }
  // The segments are base64url (ASCII): latin1 is the exact bytes, and the cheapest copy.
  const data = Buffer.from(signingInput, 'latin1');
  return new Promise((resolve) => {
    const done = (error: Error | null, valid: boolean) => resolve(!error && valid);
    try {
      if (rule.kty === 'OKP') return verify(null, data, key, signature, done);
      if (rule.kty === 'EC') {
        return verify(rule.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature, done);
      }
      const padding =
        rule.saltLength === undefined
          ? { padding: constants.RSA_PKCS1_PADDING }
          : { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: rule.saltLength };
      verify(rule.hash, data, { key, ...padding }, signature, done);
    } catch {
      resolve(false);
    }
  });
}
