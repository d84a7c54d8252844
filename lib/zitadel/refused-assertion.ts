/**
 * What ZITADEL's 500 `Errors.Internal` to a JWT-bearer grant usually means.
 * ZITADEL answers every refused assertion so today (zitadel#12692), so the
 * bare answer reads like an outage while the cause is nearly always the key.
 */
import { TokenRequestError } from '../errors';

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * The sentence appended to the error's message.
 *
 * @example
 * ```ts
 * error.message.endsWith(REFUSED_ASSERTION_HINT);
 * ```
 */
export const REFUSED_ASSERTION_HINT =
  "ZITADEL answers so when it refuses the JWT-bearer assertion: usually the key is not this service user's, is expired or removed, or is an API app's key rather than a service user's";

/**
 * Adds the hint to a `TokenRequestError` that is ZITADEL's answer to a
 * refused assertion (`status`, `error` and `errorDescription` stay as ZITADEL
 * sent them); any other error is returned as is.
 *
 * @example
 * ```ts
 * throw explainRefusedAssertion(error, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
 * ```
 */
export function explainRefusedAssertion(error: unknown, grantType: string | undefined): unknown {
  if (
    grantType === JWT_BEARER_GRANT &&
    error instanceof TokenRequestError &&
    error.status === 500 &&
    error.error === 'server_error' &&
    error.errorDescription === 'Errors.Internal'
  ) {
    error.message = `${error.message} - ${REFUSED_ASSERTION_HINT}`;
  }
  return error;
}

/**
 * Whether the error carries the hint (the CLI then calls it a configuration error, not an outage).
 *
 * @example
 * ```ts
 * if (isRefusedAssertion(error)) exitCode = ExitCode.config;
 * ```
 */
export function isRefusedAssertion(error: TokenRequestError): boolean {
  return error.message.endsWith(REFUSED_ASSERTION_HINT);
}
