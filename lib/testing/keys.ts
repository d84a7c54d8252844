/**
 * Keys and ids as ZITADEL makes them: RSA 2048 keys handed out as PKCS#1 PEM
 * (`BEGIN RSA PRIVATE KEY`), numeric 18-digit ids, random client secrets.
 */
import { generateKeyPair, randomBytes, randomInt, type JsonWebKey } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsaKeyPair = promisify(generateKeyPair);

/**
 * A freshly generated RSA key: the private half as ZITADEL writes it, the public half as JWK.
 *
 * @example
 * ```ts
 * const { privatePem }: GeneratedKey = await generateRsaKey();
 * ```
 */
export interface GeneratedKey {
  /** PKCS#1 PEM of the private key. */
  privatePem: string;
  /** Public JWK (`kty`, `n`, `e`). */
  publicJwk: JsonWebKey;
  /** Private JWK, for the issuer's own signing key. */
  privateJwk: JsonWebKey;
}

/**
 * Generates an RSA 2048 key off the event loop.
 *
 * @example
 * ```ts
 * const { privatePem, publicJwk } = await generateRsaKey();
 * ```
 */
export async function generateRsaKey(): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicJwk: publicKey.export({ format: 'jwk' }),
    privateJwk: privateKey.export({ format: 'jwk' }),
  };
}

/**
 * Makes ZITADEL-like ids: 18 digits, increasing, unique within the process.
 *
 * @example
 * ```ts
 * const nextId = createIdGenerator();
 * nextId(); // '176543210987654321'
 * ```
 */
export function createIdGenerator(): () => string {
  // Milliseconds times 10^5 gives 18 digits until the year 2286.
  let last = BigInt(Date.now()) * 100_000n + BigInt(randomInt(50_000));
  return () => {
    last += BigInt(1 + randomInt(1_000));
    return last.toString();
  };
}

/**
 * A client secret of the kind ZITADEL generates (64 url-safe characters).
 *
 * @example
 * ```ts
 * const secret = newClientSecret();
 * ```
 */
export function newClientSecret(): string {
  return randomBytes(48).toString('base64url');
}
