/**
 * `check`: is this API application set up right? Discovery, credentials and
 * one real introspection call, each reported on its own line; with
 * `--token`, also whether a real token is active for this API (ZITADEL
 * answers `active:false` to a malformed client assertion as well, so the
 * random token alone does not fully prove our authentication).
 */
import { randomBytes } from 'node:crypto';
import { IntrospectionUnavailableError } from '../errors';
import {
  noPositionals,
  requireCredentials,
  requireIssuer,
  UsageError,
  type CommandArgs,
} from './args';
import {
  discover,
  introspect,
  loadClientAuthentication,
  type ClientAuthentication,
  type ProviderMetadata,
} from './connection';
import { describeFailure, ExitCode, type ExitCodeValue } from './failure';
import { buildReport } from './introspect-report';
import type { Io } from './io';

/** Larger than any token the middleware accepts (8 KiB), small enough to bound a stray pipe. */
const MAX_STDIN_BYTES = 64 * 1024;

/** A token that is not active for this API: exit code 3, as `introspect`. */
class InactiveTokenError extends Error {}

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
  const token = await readTokenOption(args, io);
  const exitCodes: ExitCodeValue[] = [];

  async function check<T>(name: string, run: () => Promise<T>, found: (value: T) => string) {
    try {
      const value = await run();
      io.out(`✓ ${name}: ${found(value)}`);
      return value;
    } catch (error) {
      const { exitCode, message } =
        error instanceof InactiveTokenError
          ? { exitCode: ExitCode.inactive, message: error.message }
          : describeFailure(error);
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
  if (token === undefined) return exitCodes[0] ?? ExitCode.ok;
  if (metadata && auth && exitCodes.length === 0) {
    const context = {
      token,
      issuer: metadata.issuer,
      clientId: auth.clientId,
      projectId: args.projectId,
    };
    await check(
      'token',
      () => activeForThisApi(token, metadata, auth, context),
      (subject) =>
        `active for this API (subject ${subject}): ZITADEL authenticated us and accepts the token's audience`,
    );
  } else {
    io.out('- token: skipped (needs the checks above to pass)');
  }
  return exitCodes[0] ?? ExitCode.ok;
}

/** Options `check` accepts besides `--issuer` and `--help`. */
export const CHECK_OPTIONS = ['key', 'client-id', 'client-secret', 'token', 'project-id'] as const;

/** `--token <t>` or `--token -` (stdin); one whitespace-free word. */
async function readTokenOption(args: CommandArgs, io: Io): Promise<string | undefined> {
  if (args.token === undefined) return undefined;
  const token = args.token === '-' ? (await io.readStdin(MAX_STDIN_BYTES)).trim() : args.token;
  if (token === '') {
    throw new UsageError(args.token === '-' ? 'stdin holds no token' : '--token is empty');
  }
  if (/\s/.test(token))
    throw new UsageError('--token must be one word without spaces or line breaks');
  return token;
}

/** Introspects the real token; resolves to its subject, or says why it is not active. */
async function activeForThisApi(
  token: string,
  metadata: ProviderMetadata,
  auth: ClientAuthentication,
  context: { token: string; issuer: string; clientId: string; projectId?: string },
): Promise<string> {
  const report = buildReport(await introspect(token, metadata, auth), {
    ...context,
    now: Date.now(),
  });
  if (report.active) return report.subject ?? '(no sub)';
  const reasons = (report.reasons ?? []).map((reason) => reason.seen ?? reason.hint);
  throw new InactiveTokenError(
    `ZITADEL answered active:false${reasons.length ? ` - ${reasons.join('; ')}` : ''}`,
  );
}

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
