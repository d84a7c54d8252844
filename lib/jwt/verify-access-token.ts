/**
 * The checks on the local path (DESIGN.md "Local verification of JWT access
 * tokens"): `alg` allow-list, the signature by the key of `kid`, `iss`, `exp`,
 * `jti` and `client_id` present, not an ID token, and the audience rule
 * ZITADEL's own introspection applies.
 */
import { errors, jwtVerify } from 'jose';
import { audienceOf } from '../token-info';
import type { Jwks } from '../zitadel/jwks';
import type { LocalCandidate } from './local-path';

/**
 * What the local checks decided: accepted (with the verified payload),
 * rejected (naming the check: 401 without a call), or "ask ZITADEL" (only a
 * `nbf`/`iat` in the future: our clock may be behind ZITADEL's).
 *
 * @example
 * ```ts
 * const verdict: LocalVerdict = await verifyAccessToken(token, candidate, context);
 * if (verdict.kind === 'rejected') deny(verdict.check);
 * ```
 */
export type LocalVerdict =
  | { kind: 'accepted'; payload: Record<string, unknown> }
  | { kind: 'rejected'; check: string }
  | { kind: 'introspect'; why: string };

/**
 * What the checks need.
 *
 * @example
 * ```ts
 * const context: VerifyContext = { jwks, algorithms: ['ES256'], clockToleranceSeconds: 5, now: Date.now, clientId };
 * ```
 */
export interface VerifyContext {
  jwks: Jwks;
  algorithms: string[];
  clockToleranceSeconds: number;
  now: () => number;
  /** `aud` must contain the project id or the API app's client id. */
  projectId?: string;
  clientId: string;
  /** When set, `aud` must also contain one of these. */
  audience?: string[];
}

/** Claims only an ID token carries: an ID token of the same project is no access token. */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash'];

/**
 * Runs every check on a token {@link localCandidate} let through. Rejects
 * with IntrospectionUnavailableError only when the JWKS cannot be had.
 *
 * @example
 * ```ts
 * const candidate = localCandidate(token, issuer);
 * if (candidate) {
 *   const verdict = await verifyAccessToken(token, candidate, context);
 * }
 * ```
 */
export async function verifyAccessToken(
  token: string,
  candidate: LocalCandidate,
  context: VerifyContext,
): Promise<LocalVerdict> {
  const rejected = (check: string): LocalVerdict => ({ kind: 'rejected', check });
  // Before any key lookup: an alg we never accept needs no JWKS.
  if (typeof candidate.alg !== 'string' || !context.algorithms.includes(candidate.alg)) {
    return rejected('alg not allowed');
  }
  const found = await context.jwks.keysFor(candidate.kid);
  if (found === 'unknown') return rejected('unknown kid');

  const nowMs = context.now();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, found.getKey, {
      algorithms: context.algorithms,
      clockTolerance: context.clockToleranceSeconds,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp'],
    }));
  } catch (error) {
    return fromJoseError(error);
  }

  const tolerance = context.clockToleranceSeconds;
  if (typeof payload.iat === 'number' && payload.iat > nowMs / 1000 + tolerance) {
    return { kind: 'introspect', why: 'iat in the future' };
  }
  // iss needs no check here: the verified payload is the very bytes localCandidate()
  // already found naming our issuer (and the signature covers them).
  if (!nonEmptyString(payload.jti)) return rejected('no jti');
  if (!nonEmptyString(payload.client_id)) return rejected('no client_id');
  if (ID_TOKEN_CLAIMS.some((claim) => claim in payload)) return rejected('an ID token');
  const audience = audienceOf(payload.aud);
  const ours = [context.projectId, context.clientId].filter((id) => id !== undefined);
  if (!ours.some((id) => audience.includes(id))) return rejected('aud');
  if (context.audience && !context.audience.some((wanted) => audience.includes(wanted))) {
    return rejected('aud not in audience');
  }
  return { kind: 'accepted', payload };
}

/** jose's verdicts as our check names; a future `nbf` goes to ZITADEL. */
function fromJoseError(error: unknown): LocalVerdict {
  const rejected = (check: string): LocalVerdict => ({ kind: 'rejected', check });
  if (error instanceof errors.JWTExpired) return rejected('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return { kind: 'introspect', why: 'nbf in the future' };
    }
    return rejected(error.reason === 'missing' ? `no ${error.claim}` : `${error.claim} invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return rejected('signature');
  if (error instanceof errors.JOSEAlgNotAllowed) return rejected('alg not allowed');
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return rejected('no key of that kid for that alg');
  }
  return rejected('malformed');
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}
