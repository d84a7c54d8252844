/**
 * Errors of the package. Every {@link AuthError} carries what an HTTP answer
 * needs (`status`, `statusCode`, `code`, `description`, `headers`), so that
 * Express's default error handler already sends the right status and
 * `WWW-Authenticate` header (RFC 6750 §3), and `authErrorHandler()` only adds
 * a JSON body.
 *
 * Nothing secret is ever put on an error: `util.inspect` shows every property.
 */

/** Options shared by the error constructors; the Express face fills them in. */
export interface AuthErrorOptions {
  /** Realm of the `WWW-Authenticate` challenge (default `api`). */
  realm?: string;
  /** Scopes a 403 names in `scope="…"` (RFC 6750 §3). */
  scope?: string;
  /** Seconds for `Retry-After` on a 503 (default 5). */
  retryAfterSeconds?: number;
  /** The underlying cause, kept for logs (never contains a token). */
  cause?: unknown;
}

const DEFAULT_REALM = 'api';
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * Base class of every error the middleware and the core raise.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => {
 *   if (err instanceof AuthError) return res.status(err.status).set(err.headers).end();
 *   next(err);
 * });
 * ```
 */
export abstract class AuthError extends Error {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Same as `status`, for frameworks that read `statusCode`. */
  readonly statusCode: number;
  /** RFC 6750 / RFC 6749 error code, `undefined` when no code applies (no credentials). */
  readonly code: string | undefined;
  /** Human-readable description, safe to send (no `"`, no `\`, never a token). */
  readonly description: string;
  /** Headers to send with the answer (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Record<string, string>;
  /** http-errors convention: the message may be shown to the client. */
  readonly expose: boolean;

  protected constructor(
    status: number,
    code: string | undefined,
    description: string,
    headers: Record<string, string>,
    options: AuthErrorOptions = {},
  ) {
    const safeDescription = sanitizeDescription(description);
    super(safeDescription, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.statusCode = status;
    this.code = code;
    this.description = safeDescription;
    this.headers = headers;
    this.expose = status < 500;
  }
}

/**
 * 401 without an error code: the request carried no credentials (or another
 * scheme than Bearer, RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new UnauthorizedError(); // 401, WWW-Authenticate: Bearer realm="api"
 * ```
 */
export class UnauthorizedError extends AuthError {
  constructor(description = 'no bearer token in the request', options: AuthErrorOptions = {}) {
    super(401, undefined, description, { 'WWW-Authenticate': challenge(options.realm) }, options);
  }
}

/**
 * 400 `invalid_request`: a malformed Authorization header or token location.
 *
 * @example
 * ```ts
 * throw new InvalidRequestError('more than one token in the request');
 * ```
 */
export class InvalidRequestError extends AuthError {
  constructor(description = 'the request is malformed', options: AuthErrorOptions = {}) {
    super(
      400,
      'invalid_request',
      description,
      {
        'WWW-Authenticate': challenge(options.realm, 'invalid_request', description),
      },
      options,
    );
  }
}

/**
 * 401 `invalid_token`: the token is inactive, expired or for another audience.
 *
 * @example
 * ```ts
 * throw new InvalidTokenError('token expired');
 * ```
 */
export class InvalidTokenError extends AuthError {
  constructor(description = 'the access token is not active', options: AuthErrorOptions = {}) {
    super(
      401,
      'invalid_token',
      description,
      { 'WWW-Authenticate': challenge(options.realm, 'invalid_token', description) },
      options,
    );
  }
}

/**
 * 403 `insufficient_scope`: a guard (role, scope or claim) denied the request.
 *
 * @example
 * ```ts
 * throw new InsufficientScopeError('missing role admin', { scope: 'admin' });
 * ```
 */
export class InsufficientScopeError extends AuthError {
  constructor(description = 'insufficient scope', options: AuthErrorOptions = {}) {
    super(
      403,
      'insufficient_scope',
      description,
      {
        'WWW-Authenticate': challenge(
          options.realm,
          'insufficient_scope',
          description,
          options.scope,
        ),
      },
      options,
    );
  }
}

/**
 * 503 `temporarily_unavailable`: ZITADEL could not answer (unreachable, timed
 * out, 5xx, 429, a malformed answer, discovery unreachable, circuit open,
 * too many introspections in flight). The client's token may be fine, so no
 * `WWW-Authenticate`; `Retry-After` tells it when to try again.
 *
 * @example
 * ```ts
 * throw new IntrospectionUnavailableError('introspection timed out', { retryAfterSeconds: 5 });
 * ```
 */
export class IntrospectionUnavailableError extends AuthError {
  /** Whole seconds the client should wait (also in the `Retry-After` header). */
  readonly retryAfterSeconds: number;

  constructor(
    description = 'the authorization server is unavailable',
    options: AuthErrorOptions = {},
  ) {
    const seconds = clampRetryAfter(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
    super(503, 'temporarily_unavailable', description, { 'Retry-After': String(seconds) }, options);
    this.retryAfterSeconds = seconds;
  }
}

/**
 * 500 `server_error`: the package is misconfigured (bad options, a bad key
 * file, a discovery document for another issuer) or ZITADEL rejected our own
 * client authentication. Thrown synchronously for bad options.
 *
 * @example
 * ```ts
 * try { zitadelAuth({} as never); } catch (e) { if (e instanceof ConfigError) console.error(e.message); }
 * ```
 */
export class ConfigError extends AuthError {
  /** The option or key-file field at fault, when one is. */
  readonly field: string | undefined;

  constructor(
    description = 'configuration error',
    options: AuthErrorOptions & { field?: string } = {},
  ) {
    super(500, 'server_error', description, {}, options);
    this.field = options.field;
  }
}

/**
 * A token endpoint refused or could not be reached while getting a token for
 * a service user (the calling side). Not an {@link AuthError}: it is not an
 * answer this API sends.
 *
 * @example
 * ```ts
 * try { await source.getToken(); } catch (e) {
 *   if (e instanceof TokenRequestError) console.error(e.status, e.error);
 * }
 * ```
 */
export class TokenRequestError extends Error {
  /** HTTP status of the token endpoint; `undefined` when it was unreachable. */
  readonly status: number | undefined;
  /** OAuth error code (`invalid_grant`, `invalid_client`, …) or `network_error`. */
  readonly error: string;
  /** The token endpoint's `error_description`, if it sent one. */
  readonly errorDescription: string | undefined;

  constructor(
    status: number | undefined,
    error: string,
    errorDescription?: string,
    options: { cause?: unknown } = {},
  ) {
    const text = errorDescription ? `${error}: ${errorDescription}` : error;
    super(
      `token request failed${status === undefined ? '' : ` (HTTP ${status})`}: ${text}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'TokenRequestError';
    this.status = status;
    this.error = error;
    this.errorDescription = errorDescription;
  }
}

function challenge(realm = DEFAULT_REALM, code?: string, description?: string, scope?: string) {
  const parts = [`realm="${sanitizeDescription(realm)}"`];
  if (code) parts.push(`error="${code}"`);
  if (code && description) parts.push(`error_description="${sanitizeDescription(description)}"`);
  if (scope) parts.push(`scope="${sanitizeDescription(scope)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * RFC 6750 §3 allows %x20-21 / %x23-5B / %x5D-7E in `error_description`:
 * anything else (quotes, backslashes, control characters, non-ASCII) would
 * break the header or smuggle a second parameter into it.
 */
function sanitizeDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ').slice(0, 300);
}

function clampRetryAfter(seconds: number): number {
  if (!Number.isFinite(seconds)) return DEFAULT_RETRY_AFTER_SECONDS;
  return Math.min(60, Math.max(1, Math.ceil(seconds)));
}
