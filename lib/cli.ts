#!/usr/bin/env node
/**
 * `zitadel-introspection`: the command line of the package.
 *
 * - `token`      an access token for a service user, on stdout and nothing else
 * - `introspect` what ZITADEL says about a token, as the API would see it
 * - `check`      discovery, key file and client authentication of an API app
 *
 * Exit codes: 0 ok, 1 usage or configuration, 2 ZITADEL unreachable or
 * answering garbage, 3 token inactive. Errors are one line each on stderr;
 * a key, a secret or a token (outside `token`'s stdout) is never printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs, UsageError, type CommandArgs, type OptionName } from './cli/args';
import { CHECK_OPTIONS, runCheck } from './cli/check-command';
import { describeFailure, ExitCode, oneLine, type ExitCodeValue } from './cli/failure';
import { BIN, HELP, OVERVIEW, type CommandName } from './cli/help';
import { INTROSPECT_OPTIONS, runIntrospect } from './cli/introspect-command';
import { processIo, type Io } from './cli/io';
import { runToken, TOKEN_OPTIONS } from './cli/token-command';

interface Command {
  options: readonly OptionName[];
  run(args: CommandArgs, io: Io): Promise<ExitCodeValue>;
}

const COMMANDS: Record<CommandName, Command> = {
  token: { options: TOKEN_OPTIONS, run: runToken },
  introspect: { options: INTROSPECT_OPTIONS, run: runIntrospect },
  check: { options: CHECK_OPTIONS, run: runCheck },
};

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to
 * the exit code; it never rejects.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['check', '--issuer', issuer, '--key', './api-key.json'], processIo());
 * ```
 */
export async function main(argv: string[], io: Io): Promise<ExitCodeValue> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = rest[0];
    io.out(isCommand(topic) ? HELP[topic] : OVERVIEW);
    return ExitCode.ok;
  }
  if (first === '--version' || first === '-v') {
    io.out(packageVersion());
    return ExitCode.ok;
  }
  if (!isCommand(first)) {
    // The unknown word is not echoed: it might be a token pasted in the wrong place.
    const what = first === undefined ? 'no command given' : 'unknown command';
    io.err(`error: ${what}; commands: token, introspect, check (see ${BIN} --help)`);
    return ExitCode.config;
  }
  const command = COMMANDS[first];
  try {
    const args = parseCommandArgs(rest, [...command.options]);
    if (args.help) {
      io.out(HELP[first]);
      return ExitCode.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    const { exitCode, message } = describeFailure(error);
    const usage = error instanceof UsageError ? ` (see ${BIN} ${first} --help)` : '';
    io.err(`error: ${oneLine(message)}${usage}`);
    return exitCode;
  }
}

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

function packageVersion(): string {
  // dist/cli.js → ../package.json, which npm always ships.
  const manifest = JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8'));
  return String(manifest.version);
}

if (require.main === module) {
  void main(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
