/**
 * The checks on the local path (DESIGN.md "Local verification of JWT access
 * tokens"): `alg` allow-list, the signature by the key of `kid`, `iss`, `exp`,
 * `jti` and `client_id` present, not an ID token, and the audience rule
 * ZITADEL's own introspection applies. The signature is checked with
 * node:crypto against the key imported once per `kid` (see jws-signature.ts),
 * the time claims as jose's `jwtVerify` checks them.
 */
import { audienceOf } from '../token-info';
import type { Jwks } from '../zitadel/jwks';
import { keyFits, verifySignature } from '../zitadel/jws-signature';
import type { LocalCandidate } from './local-path';

/**
 * What the local checks decided: accepted (with the verified payload),
 * rejected (naming the check: 401 without a call), or "ask ZITADEL" (only a
 * `nbf`/`iat` in the future: our clock may be behind ZITADEL's).
 *
 * @example
 * ```ts
 * const verdict: LocalVerdict = await verifyAccessToken(candidate, context);
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
 *   const verdict = await verifyAccessToken(candidate, context);
 * }
 * ```
 */
export async function verifyAccessToken(
  candidate: LocalCandidate,
  context: VerifyContext,
): Promise<LocalVerdict> {
  const { alg } = candidate;
  // Before any key lookup: an alg we never accept needs no JWKS.
  if (typeof alg !== 'string' || !context.algorithms.includes(alg)) {
    return rejected('alg not allowed');
  }
  const found = await context.jwks.keysFor(candidate.kid);
  if (found === 'unknown') return rejected('unknown kid');
  // No extension is understood here, so none may be critical (RFC 7515 §4.1.11).
  if (!candidate.wellFormed || candidate.header.crit !== undefined) return rejected('malformed');
  if (!found.key || !keyFits(found.jwk, found.key, alg)) {
    return rejected('no key of that kid for that alg');
  }
  if (!(await verifySignature(alg, found.key, candidate.signingInput, candidate.signature))) {
    return rejected('signature');
  }
  return checkClaims(candidate.payload, context);
}

/** The claims of a token whose signature verified, in the order jose checks them. */
function checkClaims(payload: Record<string, unknown>, context: VerifyContext): LocalVerdict {
  const tolerance = context.clockToleranceSeconds;
  const nowMs = context.now();
  const now = Math.floor(nowMs / 1000);
  if (!Object.hasOwn(payload, 'exp')) return rejected('no exp');
  for (const claim of ['iat', 'nbf', 'exp']) {
    if (payload[claim] !== undefined && !finiteNumber(payload[claim])) {
      return rejected(`${claim} invalid`);
    }
  }
  const { iat, nbf, exp } = payload as { iat?: number; nbf?: number; exp: number };
  // Our clock may be behind ZITADEL's: a token "from the future" is ZITADEL's to judge.
  if (nbf !== undefined && nbf > now + tolerance) {
    return { kind: 'introspect', why: 'nbf in the future' };
  }
  if (exp <= now - tolerance) return rejected('expired');
  if (iat !== undefined && iat > nowMs / 1000 + tolerance) {
    return { kind: 'introspect', why: 'iat in the future' };
  }
  // iss needs no check here: the verified payload is the very bytes localCandidate()
  // already found naming our issuer (and the signature covers them).
  // First: ZITADEL's ID tokens carry no jti, and "an ID token" says more than "no jti".
  if (ID_TOKEN_CLAIMS.some((claim) => claim in payload)) return rejected('an ID token');
  if (!nonEmptyString(payload.jti)) return rejected('no jti');
  if (!nonEmptyString(payload.client_id)) return rejected('no client_id');
  const audience = audienceOf(payload.aud);
  const ours = [context.projectId, context.clientId].filter((id) => id !== undefined);
  if (!ours.some((id) => audience.includes(id))) return rejected('aud');
  if (context.audience && !context.audience.some((wanted) => audience.includes(wanted))) {
    return rejected('aud not in audience');
  }
  return { kind: 'accepted', payload };
}

function rejected(check: string): LocalVerdict {
  return { kind: 'rejected', check };
}

function finiteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}
