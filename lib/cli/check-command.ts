/**
 * `check`: is this API application set up right? Discovery, credentials and
 * one real introspection call, each reported on its own line.
 */
import { randomBytes } from 'node:crypto';
import { IntrospectionUnavailableError } from '../errors';
import { noPositionals, requireCredentials, requireIssuer, type CommandArgs } from './args';
import {
  discover,
  introspect,
  loadClientAuthentication,
  type ClientAuthentication,
  type ProviderMetadata,
} from './connection';
import { describeFailure, ExitCode, type ExitCodeValue } from './failure';
import type { Io } from './io';

/**
 * Runs `check`. Each check prints `✓ name: what was found` or `✗ name` on
 * stdout, and for a failure one line on stderr with a hint. Exits with the
 * code of the first failure (0 when all pass).
 *
 * @example
 * ```ts
 * const args = parseCommandArgs(argv, CHECK_OPTIONS);
 * process.exitCode = await runCheck(args, processIo());
 * ```
 */
export async function runCheck(args: CommandArgs, io: Io): Promise<ExitCodeValue> {
  noPositionals(args);
  const issuer = requireIssuer(args);
  const credentials = requireCredentials(args, io.env);
  const exitCodes: ExitCodeValue[] = [];

  async function check<T>(name: string, run: () => Promise<T>, found: (value: T) => string) {
    try {
      const value = await run();
      io.out(`✓ ${name}: ${found(value)}`);
      return value;
    } catch (error) {
      const { exitCode, message } = describeFailure(error);
      exitCodes.push(exitCode);
      io.out(`✗ ${name}`);
      io.err(`${name}: ${message}`);
      return undefined;
    }
  }

  const metadata = await check(
    'discovery',
    () => discover(issuer),
    (found) =>
      `${issuer} is reachable and names itself as issuer; introspection endpoint ${found.introspectionEndpoint}`,
  );
  const auth = await check(
    credentials.kind === 'key' ? 'key file' : 'client secret',
    () => loadClientAuthentication(credentials),
    describeCredentials,
  );
  if (metadata && auth) {
    await check(
      'client authentication',
      () => acceptsClientAuthentication(metadata, auth),
      () => 'ZITADEL accepted it (a random token came back inactive, as it should)',
    );
  } else {
    io.out('- client authentication: skipped (needs discovery and credentials)');
  }
  return exitCodes[0] ?? ExitCode.ok;
}

/** Options `check` accepts besides `--issuer` and `--help`. */
export const CHECK_OPTIONS = ['key', 'client-id', 'client-secret'] as const;

/**
 * Introspects a random token: ZITADEL answers `active: false` only after it
 * accepted our client authentication (a rejection is HTTP 400/401).
 */
async function acceptsClientAuthentication(
  metadata: ProviderMetadata,
  auth: ClientAuthentication,
): Promise<void> {
  const answer = await introspect(randomBytes(32).toString('base64url'), metadata, auth);
  if (answer.active !== false) {
    throw new IntrospectionUnavailableError(
      'malformed introspection answer: a random token came back active',
    );
  }
}

function describeCredentials(auth: ClientAuthentication): string {
  return auth.method === 'private_key_jwt'
    ? `application key ${auth.key.keyId} of client ${auth.clientId} (${auth.key.alg})`
    : `client ${auth.clientId} with a client secret (not verifiable before the call)`;
}
