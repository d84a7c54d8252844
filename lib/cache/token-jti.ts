/**
 * The `jti` of a token without verifying it: only to leave an eviction
 * marker by token id (never to trust anything in it).
 */

/**
 * The `jti` of a three-segment JWT's payload, or `undefined`.
 *
 * @example
 * ```ts
 * unverifiedJti(accessToken); // '312909075212468632.at_3129…' for a ZITADEL JWT
 * ```
 */
export function unverifiedJti(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1].length > 16_384) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    const jti = (payload as { jti?: unknown } | null)?.jti;
    return typeof jti === 'string' && jti !== '' ? jti : undefined;
  } catch {
    return undefined;
  }
}
