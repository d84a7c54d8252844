/**
 * `token`: an access token for a service user, printed on stdout and
 * nothing else there, so that `$(zitadel-introspection token …)` is the token.
 */
import { serviceUserTokenSource } from '../zitadel/service-user';
import {
  noPositionals,
  requireCredentials,
  requireIssuer,
  scopesOf,
  type CommandArgs,
} from './args';
import { ExitCode, type ExitCodeValue } from './failure';
import type { Io } from './io';

/**
 * Runs `token`: JWT-bearer grant with `--key`, client credentials with
 * `--client-id`/`--client-secret`.
 *
 * @throws {TokenRequestError} the token endpoint refused or was unreachable.
 * @throws {ConfigError} a bad key file (e.g. an API application's key).
 *
 * @example
 * ```ts
 * const args = parseCommandArgs(argv, TOKEN_OPTIONS);
 * process.exitCode = await runToken(args, processIo());
 * ```
 */
export async function runToken(args: CommandArgs, io: Io): Promise<ExitCodeValue> {
  noPositionals(args);
  const issuer = requireIssuer(args);
  const credentials = requireCredentials(args, io.env);
  const scope = scopesOf(args);
  const source = serviceUserTokenSource(
    credentials.kind === 'key'
      ? { issuer, key: credentials.key, scope }
      : { issuer, clientId: credentials.clientId, clientSecret: credentials.clientSecret, scope },
  );
  io.out(await source.getToken());
  return ExitCode.ok;
}

/** Options `token` accepts besides `--issuer` and `--help`. */
export const TOKEN_OPTIONS = ['key', 'client-id', 'client-secret', 'scope'] as const;
