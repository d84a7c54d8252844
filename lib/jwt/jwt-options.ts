/**
 * The `jwt` option: introspect every token (default) or verify JWT access
 * tokens locally, with a background introspection bounding the revocation lag.
 */
import { ConfigError } from '../errors';

/**
 * How JWT access tokens are checked (DESIGN.md "Local verification of JWT access tokens").
 *
 * @example
 * ```ts
 * zitadelAuth({ issuer, key, projectId, jwt: { verify: 'local', revalidateSeconds: 300 } });
 * ```
 */
export interface JwtOptions {
  /** `'introspect'` (default): every token is introspected; `'local'`: JWTs are verified here. */
  verify: 'introspect' | 'local';
  /** Background introspection of each locally accepted `jti` this often; 0 = never. Default `cache.maxTtlSeconds`. */
  revalidateSeconds?: number;
  /** Accepted `alg` values; only asymmetric ones. Default RS/PS/ES 256–512 and EdDSA. */
  algorithms?: string[];
  /** The JWKS URL; default `jwks_uri` from discovery. Required with `introspectionEndpoint`. */
  jwksUri?: string;
  /** An unknown `kid` refetches the JWKS at most this often. Default 30. */
  jwksCooldownSeconds?: number;
}

/**
 * The `jwt` option after validation; `local` is undefined in introspect mode.
 *
 * @example
 * ```ts
 * const { local } = resolveJwtOptions({ verify: 'local' }, { maxTtlSeconds: 300 });
 * local?.revalidateSeconds; // 300
 * ```
 */
export interface ResolvedJwtOptions {
  verify: 'introspect' | 'local';
  local?: {
    revalidateSeconds: number;
    algorithms: string[];
    jwksUri?: string;
    jwksCooldownSeconds: number;
  };
}

/** ZITADEL's web-key algorithms: asymmetric only, so never `none` and never an HMAC. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/**
 * Validates the `jwt` option and fills in its defaults; throws {@link ConfigError}
 * naming the field.
 *
 * @example
 * ```ts
 * resolveJwtOptions(undefined, { maxTtlSeconds: 300 }); // { verify: 'introspect' }
 * ```
 */
export function resolveJwtOptions(
  jwt: unknown,
  context: { maxTtlSeconds: number; introspectionEndpoint?: string },
): ResolvedJwtOptions {
  if (jwt === undefined) return { verify: 'introspect' };
  if (typeof jwt !== 'object' || jwt === null || Array.isArray(jwt)) {
    throw new ConfigError('jwt must be an object', { field: 'jwt' });
  }
  const given = jwt as Partial<Record<keyof JwtOptions, unknown>>;
  if (given.verify !== 'introspect' && given.verify !== 'local') {
    throw new ConfigError("jwt.verify must be 'introspect' or 'local'", { field: 'jwt.verify' });
  }
  if (given.verify === 'introspect') return { verify: 'introspect' };
  const jwksUri = optionalUrl(given.jwksUri);
  if (jwksUri === undefined && context.introspectionEndpoint !== undefined) {
    throw new ConfigError(
      'jwt.jwksUri is required with introspectionEndpoint (there is no discovery to name it)',
      { field: 'jwt.jwksUri' },
    );
  }
  return {
    verify: 'local',
    local: {
      revalidateSeconds: seconds(
        given.revalidateSeconds,
        'jwt.revalidateSeconds',
        context.maxTtlSeconds,
      ),
      algorithms: algorithms(given.algorithms),
      jwksUri,
      jwksCooldownSeconds: seconds(given.jwksCooldownSeconds, 'jwt.jwksCooldownSeconds', 30),
    },
  };
}

function algorithms(value: unknown): string[] {
  if (value === undefined) return [...ASYMMETRIC_ALGORITHMS];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((alg) => typeof alg === 'string' && ASYMMETRIC_ALGORITHMS.includes(alg))
  ) {
    throw new ConfigError(
      `jwt.algorithms must be a non-empty list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
      { field: 'jwt.algorithms' },
    );
  }
  return [...new Set(value as string[])];
}

function seconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${field} must be a number of at least 0`, { field });
  }
  return value;
}

function optionalUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError('jwt.jwksUri must be an absolute http(s) URL', { field: 'jwt.jwksUri' });
  }
  return value as string;
}
