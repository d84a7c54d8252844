/**
 * `introspect`: asks ZITADEL about a token with the API application's
 * credentials, as the middleware would, and prints what it learnt.
 */
import { requireCredentials, requireIssuer, UsageError, type CommandArgs } from './args';
import { discover, introspect, loadClientAuthentication } from './connection';
import { ExitCode, type ExitCodeValue } from './failure';
import { buildReport, formatReport } from './introspect-report';
import { verifyLocally } from './introspect-local';
import type { Io } from './io';

/** Larger than any token the middleware accepts (8 KiB), small enough to bound a stray pipe. */
const MAX_STDIN_BYTES = 64 * 1024;

/**
 * Runs `introspect`; exit code 3 when the token is not active. The token is
 * never written anywhere (output lines are scrubbed of it as well).
 *
 * @throws {ConfigError} bad key file, another issuer, client authentication rejected.
 * @throws {IntrospectionUnavailableError} ZITADEL unreachable or answering garbage.
 *
 * @example
 * ```ts
 * const args = parseCommandArgs(argv, INTROSPECT_OPTIONS);
 * process.exitCode = await runIntrospect(args, processIo());
 * ```
 */
export async function runIntrospect(args: CommandArgs, io: Io): Promise<ExitCodeValue> {
  const issuer = requireIssuer(args);
  const credentials = requireCredentials(args, io.env);
  const token = await readToken(args, io);
  const auth = await loadClientAuthentication(credentials);
  const metadata = await discover(issuer);
  const answer = await introspect(token, metadata, auth);
  const report = buildReport(answer, {
    token,
    issuer: metadata.issuer,
    clientId: auth.clientId,
    projectId: args.projectId,
    now: Date.now(),
  });
  // Beside ZITADEL's answer; the exit code stays ZITADEL's.
  const local = await verifyLocally(token, {
    issuer: metadata.issuer,
    jwksUri: metadata.jwksUri,
    clientId: auth.clientId,
    projectId: args.projectId,
    now: Date.now,
  });
  if (local) report.localVerification = local;
  const lines = args.json ? [JSON.stringify(report, null, 2)] : formatReport(report);
  for (const line of lines) io.out(scrub(line, token));
  return report.active ? ExitCode.ok : ExitCode.inactive;
}

/** Options `introspect` accepts besides `--issuer` and `--help`. */
export const INTROSPECT_OPTIONS = [
  'key',
  'client-id',
  'client-secret',
  'project-id',
  'json',
] as const;

/**
 * ZITADEL's answer does not hold the token, but a claim could echo it. A
 * short "token" is left alone: scrubbing it would garble the output and it
 * is no secret worth the name.
 */
function scrub(line: string, token: string): string {
  return token.length < 16 ? line : line.split(token).join('[token]');
}

/** The one positional, or stdin for `-`; one whitespace-free word either way. */
async function readToken(args: CommandArgs, io: Io): Promise<string> {
  if (args.positionals.length !== 1) {
    throw new UsageError(
      `expected exactly one TOKEN (or - for stdin), got ${args.positionals.length}`,
    );
  }
  const [given] = args.positionals;
  const token = given === '-' ? (await io.readStdin(MAX_STDIN_BYTES)).trim() : given;
  if (token === '') throw new UsageError(given === '-' ? 'stdin holds no token' : 'TOKEN is empty');
  if (/\s/.test(token))
    throw new UsageError('TOKEN must be one word without spaces or line breaks');
  return token;
}
