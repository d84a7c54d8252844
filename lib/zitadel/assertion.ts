/**
 * Signs the JWTs we present to ZITADEL: client assertions (RFC 7523 §2.2,
 * `private_key_jwt`) and JWT-bearer grants (RFC 7523 §2.1).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ServiceAccountKey, SigningKey } from './key-file';

/**
 * ZITADEL rejects an `iat` more than ~1 s in its future; backdating by 5 s
 * keeps a host whose clock runs slightly ahead from failing every call.
 */
const BACKDATE_SECONDS = 5;
const CLIENT_ASSERTION_LIFETIME_SECONDS = 60;
/** Well inside ZITADEL's one-hour limit for JWT-bearer assertions. */
const GRANT_ASSERTION_LIFETIME_SECONDS = 5 * 60;

/**
 * Signs a client assertion for `private_key_jwt`: `iss = sub = clientId`,
 * `aud = audience` (the issuer), `iat = now − 5 s`, `exp = now + 60 s`, a
 * fresh `jti`. Make a new one for every HTTP request.
 *
 * @example
 * ```ts
 * const key = await loadKeyFile('./api-key.json', 'application');
 * const jwt = await signClientAssertion(key, key.clientId, 'https://acme.zitadel.cloud');
 * ```
 */
export function signClientAssertion(
  key: SigningKey,
  clientId: string,
  audience: string,
  nowMs: number = Date.now(),
): Promise<string> {
  return sign(key, clientId, audience, nowMs, CLIENT_ASSERTION_LIFETIME_SECONDS);
}

/**
 * Signs the assertion of a JWT-bearer grant for a service user:
 * `iss = sub = userId`, `aud = audience` (the issuer), `iat = now − 5 s`,
 * `exp = now + 5 min`, a fresh `jti`.
 *
 * @example
 * ```ts
 * const key = await loadKeyFile('./service-user.json', 'serviceaccount');
 * const assertion = await signJwtBearerAssertion(key, 'https://acme.zitadel.cloud');
 * ```
 */
export function signJwtBearerAssertion(
  key: ServiceAccountKey,
  audience: string,
  nowMs: number = Date.now(),
): Promise<string> {
  return sign(key, key.userId, audience, nowMs, GRANT_ASSERTION_LIFETIME_SECONDS);
}

function sign(
  key: SigningKey,
  subject: string,
  audience: string,
  nowMs: number,
  lifetimeSeconds: number,
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.keyId })
    .setIssuer(subject)
    .setSubject(subject)
    .setAudience(audience)
    .setIssuedAt(now - BACKDATE_SECONDS)
    .setExpirationTime(now + lifetimeSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}
