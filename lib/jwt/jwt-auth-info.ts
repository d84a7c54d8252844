/**
 * `req.auth` of a locally verified JWT, built the same way on the replica
 * that verified it and on every replica that reads its entry from the shared
 * store: from the JWT's payload, with `source: 'jwt'`.
 */
import { toAuthInfo, type AuthInfo } from '../token-info';

/**
 * The AuthInfo of a verified JWT payload. The cache stores the payload with
 * `active: true` added (the shape of an introspection answer); that member is
 * not the token's, so `claims` leaves it out.
 *
 * @example
 * ```ts
 * const auth = jwtAuthInfo(verifiedPayload, projectId);
 * auth.source; // 'jwt'
 * ```
 */
export function jwtAuthInfo(claims: Record<string, unknown>, projectId?: string): AuthInfo {
  const { active: _active, ...payload } = claims;
  return toAuthInfo(payload, { projectId, source: 'jwt' });
}
