/**
 * Exit codes, and the one stderr line an error becomes: what went wrong and
 * a hint. The package's errors never carry a token, key or secret, so their
 * messages can be shown as they are.
 */
import { ConfigError, IntrospectionUnavailableError, TokenRequestError } from '../errors';
import { isRefusedAssertion } from '../zitadel/refused-assertion';
import { UsageError } from './args';

/** Exit codes of every command. */
export const ExitCode = {
  ok: 0,
  /** Usage or configuration: bad key file, client authentication rejected, another issuer. */
  config: 1,
  /** ZITADEL unreachable, or answering garbage. */
  unavailable: 2,
  /** `introspect`: the token is not active. */
  inactive: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error as the CLI reports it. */
export interface Failure {
  exitCode: ExitCodeValue;
  /** One line, no secrets. */
  message: string;
}

const UNREACHABLE_HINT = 'is the issuer URL right, and is ZITADEL up and reachable from here?';
const GARBAGE_HINT = 'is the issuer URL that of a ZITADEL instance, or is a proxy answering?';
const ANOTHER_ISSUER_HINT =
  'wrong issuer? give --issuer exactly as ZITADEL names itself (e.g. https://acme.zitadel.cloud)';

/**
 * Maps any error to its exit code and one line for stderr.
 *
 * @example
 * ```ts
 * const { exitCode, message } = describeFailure(error);
 * process.stderr.write(`error: ${message}\n`);
 * ```
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof UsageError) return { exitCode: ExitCode.config, message: error.message };
  if (error instanceof IntrospectionUnavailableError) {
    const hint = error.message.startsWith('malformed') ? GARBAGE_HINT : UNREACHABLE_HINT;
    return { exitCode: ExitCode.unavailable, message: oneLine(`${error.message} - ${hint}`) };
  }
  if (error instanceof ConfigError) return describeConfigError(error);
  if (error instanceof TokenRequestError) return describeTokenRequestError(error);
  // Not one of ours (a bug, or the runtime failing): its text, never its stack.
  return { exitCode: ExitCode.config, message: `unexpected error: ${oneLine(String(error))}` };
}

/**
 * Whether a discovery error means "this URL is another issuer" (a
 * configuration error) rather than a document that is not usable (garbage).
 */
function describeConfigError(error: ConfigError): Failure {
  if (/names another issuer/.test(error.message)) {
    const message = oneLine(`${error.message} - ${ANOTHER_ISSUER_HINT}`);
    return { exitCode: ExitCode.config, message };
  }
  if (error.message.startsWith('discovery document')) {
    const message = oneLine(`${error.message} - ${GARBAGE_HINT}`);
    return { exitCode: ExitCode.unavailable, message };
  }
  return { exitCode: ExitCode.config, message: oneLine(error.message) };
}

const TOKEN_HINTS: Record<string, string> = {
  invalid_grant:
    'is the key revoked or of another instance, is the issuer right, or is this clock off?',
  invalid_client: 'are the client id and secret right, and is the issuer right?',
  unauthorized_client: 'are the client id and secret right, and may this user use this grant?',
  invalid_scope: 'check the --scope values',
  network_error: UNREACHABLE_HINT,
};

function describeTokenRequestError(error: TokenRequestError): Failure {
  const garbage = error.error === 'invalid_response' || error.error === 'network_error';
  // ZITADEL's 500 to a refused assertion is about the key, not an outage.
  const serverSide =
    (error.status === undefined || error.status >= 500) && !isRefusedAssertion(error);
  const hint = TOKEN_HINTS[error.error];
  return {
    exitCode: garbage || serverSide ? ExitCode.unavailable : ExitCode.config,
    message: oneLine(hint ? `${error.message} - ${hint}` : error.message),
  };
}

/**
 * Collapses line breaks: every error is exactly one line on stderr.
 *
 * @example
 * ```ts
 * oneLine('a\nb'); // 'a b'
 * ```
 */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
