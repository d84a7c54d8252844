/**
 * `authErrorHandler()`: answers the package's errors as RFC 6750 JSON.
 */
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { AuthError } from '../errors';

/** The JSON body of an error answer (RFC 6750 §3, RFC 6749 §5.2). */
export interface AuthErrorBody {
  /** The error code; `unauthorized` for a request without credentials. */
  error: string;
  error_description: string;
}

/**
 * What a caller is told of a 5xx: the details (an internal discovery URL,
 * ZITADEL's own error text, a key-file field) are for the operator's log,
 * where the core has already written them, not for whoever sent the token.
 */
const PUBLIC_DESCRIPTIONS: Record<number, string> = {
  500: 'the API cannot verify access tokens right now (a server configuration problem)',
  503: 'the authorization server is unavailable; try again after Retry-After seconds',
};

/**
 * An Express error handler for {@link AuthError}s: sends the error's status
 * and headers (`WWW-Authenticate`, `Retry-After`), `Cache-Control: no-store`
 * and `{ "error", "error_description" }`. A 500 or 503 gets a fixed
 * description: its details are logged, not sent. Any other error, or an
 * answer whose headers are already sent, goes on to the next error handler.
 *
 * @example
 * ```ts
 * app.use('/api', zitadelAuth(options), routes);
 * app.use(authErrorHandler());
 * ```
 */
export function authErrorHandler(): ErrorRequestHandler {
  return function zitadelAuthErrorHandler(
    err: unknown,
    _req: Request,
    res: Response,
    next: NextFunction,
  ) {
    if (!(err instanceof AuthError) || res.headersSent) return next(err);
    const body: AuthErrorBody = {
      error: err.code ?? 'unauthorized',
      error_description: PUBLIC_DESCRIPTIONS[err.status] ?? err.description,
    };
    res.status(err.status).set(err.headers).set('Cache-Control', 'no-store').json(body);
  };
}
