/**
 * Which tokens take the local path: a JWS compact serialization (exactly
 * three base64url segments) whose header names a `kid` and whose unverified
 * `iss` is the configured issuer. Everything else — opaque strings, ZITADEL's
 * five-segment JWE tokens, another issuer, no `kid` — is introspected.
 */
import { isUtf8 } from 'node:buffer';

/**
 * A token shaped like one of our issuer's JWT access tokens; nothing in it is
 * verified yet.
 *
 * @example
 * ```ts
 * const candidate: LocalCandidate | undefined = localCandidate(token, issuer);
 * candidate?.kid;
 * ```
 */
export interface LocalCandidate {
  kid: string;
  alg: unknown;
  /** The decoded, unverified protected header. */
  header: Record<string, unknown>;
  /** The decoded, unverified payload (decoded once: the signature covers these very bytes). */
  payload: Record<string, unknown>;
  /** What the signature covers: the token up to its last dot. */
  signingInput: string;
  /** The third segment, still base64url. */
  signature: string;
  /**
   * Every segment strict base64url (no length of 4n + 1) and header and
   * payload valid UTF-8; a token that is not is malformed (401), as jose
   * would have it.
   */
  wellFormed: boolean;
}

/** Exactly three non-empty base64url segments, in one pass over the token. */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The decoded header and payload when `token` belongs on the local path, else
 * `undefined` (introspect it). Never throws.
 *
 * @example
 * ```ts
 * localCandidate('opaque-token', 'https://acme.zitadel.cloud'); // undefined
 * ```
 */
export function localCandidate(token: string, issuer: string): LocalCandidate | undefined {
  if (!JWS_COMPACT.test(token)) return undefined;
  const segments = token.split('.');
  const headerBytes = Buffer.from(segments[0], 'base64url');
  const payloadBytes = Buffer.from(segments[1], 'base64url');
  const header = decodeSegment(headerBytes);
  const payload = decodeSegment(payloadBytes);
  if (!header || !payload) return undefined;
  if (typeof header.kid !== 'string' || header.kid === '') return undefined;
  if (typeof payload.iss !== 'string' || !sameIssuer(payload.iss, issuer)) return undefined;
  const signatureAt = segments[0].length + segments[1].length + 1;
  return {
    kid: header.kid,
    alg: header.alg,
    header,
    payload,
    signingInput: token.slice(0, signatureAt),
    signature: segments[2],
    wellFormed:
      segments.every((segment) => segment.length % 4 !== 1) &&
      isUtf8(headerBytes) &&
      isUtf8(payloadBytes),
  };
}

/**
 * Issuers compared with a trailing slash tolerated on either side.
 *
 * @example
 * ```ts
 * sameIssuer('https://acme.zitadel.cloud/', 'https://acme.zitadel.cloud'); // true
 * ```
 */
export function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function decodeSegment(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
