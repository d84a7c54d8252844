/**
 * Which tokens take the local path: a JWS compact serialization (exactly
 * three base64url segments) whose header names a `kid` and whose unverified
 * `iss` is the configured issuer. Everything else — opaque strings, ZITADEL's
 * five-segment JWE tokens, another issuer, no `kid` — is introspected.
 */

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
  /** The decoded, unverified payload. */
  payload: Record<string, unknown>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

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
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
    return undefined;
  }
  const header = decodeSegment(segments[0]);
  const payload = decodeSegment(segments[1]);
  if (!header || !payload) return undefined;
  if (typeof header.kid !== 'string' || header.kid === '') return undefined;
  if (typeof payload.iss !== 'string' || !sameIssuer(payload.iss, issuer)) return undefined;
  return { kid: header.kid, alg: header.alg, payload };
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

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
