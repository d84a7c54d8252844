/**
 * `introspect`'s view of local verification: for a JWT, whether it verifies
 * against the issuer's JWKS (as `jwt: { verify: 'local' }` would check it)
 * and which check fails, printed beside ZITADEL's answer.
 */
import { IntrospectionUnavailableError } from '../errors';
import { localCandidate } from '../jwt/local-path';
import { ASYMMETRIC_ALGORITHMS } from '../jwt/jwt-options';
import { verifyAccessToken } from '../jwt/verify-access-token';
import { createJwks } from '../zitadel/jwks';

/**
 * What local verification would decide: `verifies`, `fails` (naming the
 * check), `introspected` (the local path does not take it, or sends it on),
 * or `unknown` (the JWKS could not be had).
 *
 * @example
 * ```ts
 * const local: LocalVerificationReport = { outcome: 'fails', detail: 'aud' };
 * ```
 */
export interface LocalVerificationReport {
  outcome: 'verifies' | 'fails' | 'introspected' | 'unknown';
  detail?: string;
}

/**
 * Checks a three-segment token locally; `undefined` for any other token.
 *
 * @example
 * ```ts
 * const local = await verifyLocally(token, { issuer, jwksUri, clientId, projectId, now: Date.now });
 * ```
 */
export async function verifyLocally(
  token: string,
  context: {
    issuer: string;
    jwksUri?: string;
    clientId: string;
    projectId?: string;
    now: () => number;
  },
): Promise<LocalVerificationReport | undefined> {
  if (token.split('.').length !== 3) return undefined;
  const candidate = localCandidate(token, context.issuer);
  if (!candidate) {
    return { outcome: 'introspected', detail: 'not on the local path (no kid, or another issuer)' };
  }
  const { jwksUri } = context;
  if (!jwksUri) return { outcome: 'unknown', detail: 'the discovery document names no jwks_uri' };
  const jwks = createJwks({
    uri: async () => jwksUri,
    timeoutMs: 5000,
    cooldownMs: 0,
    now: context.now,
  });
  try {
    const verdict = await verifyAccessToken(candidate, {
      jwks,
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      clockToleranceSeconds: 5,
      now: context.now,
      projectId: context.projectId,
      clientId: context.clientId,
    });
    if (verdict.kind === 'accepted') return { outcome: 'verifies' };
    if (verdict.kind === 'rejected') return { outcome: 'fails', detail: verdict.check };
    return { outcome: 'introspected', detail: verdict.why };
  } catch (error) {
    if (!(error instanceof IntrospectionUnavailableError)) throw error;
    return { outcome: 'unknown', detail: error.message };
  } finally {
    jwks.close();
  }
}

/**
 * The report line's text.
 *
 * @example
 * ```ts
 * describeLocal({ outcome: 'fails', detail: 'aud' }); // "fails locally: aud (ZITADEL's answer above)"
 * ```
 */
export function describeLocal(local: LocalVerificationReport): string {
  switch (local.outcome) {
    case 'verifies':
      return "verifies against the issuer's JWKS (jwt: { verify: 'local' } accepts it without a call)";
    case 'fails':
      return `fails the local check: ${local.detail} (jwt: { verify: 'local' } answers 401)`;
    case 'introspected':
      return `introspected even in local mode: ${local.detail}`;
    default:
      return `not checked: ${local.detail}`;
  }
}
