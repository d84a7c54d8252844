/**
 * Command-line arguments: `node:util` parseArgs with errors that never echo
 * a value (a stray argument may be a token or a secret), and the options the
 * commands share (issuer, credentials, scopes).
 */
import { parseArgs } from 'node:util';
import type { KeySource } from '../zitadel/key-file';

/** A mistake in how the command was called: exit code 1 and the command's usage line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The options every command understands. */
export interface CommandArgs {
  issuer?: string;
  key?: string;
  clientId?: string;
  clientSecret?: string;
  scope: string[];
  projectId?: string;
  /** `check --token`: a real token (or `-` for stdin). */
  token?: string;
  json: boolean;
  help: boolean;
  positionals: string[];
}

/** Names of the options a command accepts, besides `--issuer` and `--help`. */
export type OptionName =
  'key' | 'client-id' | 'client-secret' | 'scope' | 'project-id' | 'token' | 'json';

const OPTION_TYPES = {
  issuer: { type: 'string' },
  key: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'project-id': { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Parses one command's arguments, accepting only `allowed` options.
 *
 * @throws {UsageError} for an unknown option, a missing value, or a value given to a flag.
 *
 * @example
 * ```ts
 * const args = parseCommandArgs(['--issuer', 'https://acme.zitadel.cloud', '--json'], ['json']);
 * args.json; // true
 * ```
 */
export function parseCommandArgs(argv: string[], allowed: OptionName[]): CommandArgs {
  const names = ['issuer', 'help', ...allowed] as const;
  const options = Object.fromEntries(names.map((name) => [name, OPTION_TYPES[name]]));
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTION_TYPES }>>;
  try {
    const args = dashedValuesAsWords(argv, options);
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true }) as never;
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  return {
    issuer: values.issuer,
    key: values.key,
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    scope: values.scope ?? [],
    projectId: values['project-id'],
    token: values.token,
    json: values.json ?? false,
    help: values.help ?? false,
    positionals,
  };
}

/** How the command authenticates: a key file, or a client id and secret. */
export type Credentials =
  { kind: 'key'; key: KeySource } | { kind: 'secret'; clientId: string; clientSecret: string };

/**
 * The issuer, required and an http(s) URL.
 *
 * @example
 * ```ts
 * requireIssuer(args); // 'https://acme.zitadel.cloud'
 * ```
 */
export function requireIssuer(args: CommandArgs): string {
  if (!args.issuer) throw new UsageError('--issuer is required');
  let url: URL;
  try {
    url = new URL(args.issuer);
  } catch {
    throw new UsageError('--issuer must be a URL such as https://acme.zitadel.cloud');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('--issuer must be an http or https URL');
  }
  return args.issuer;
}

/**
 * `--key FILE`, or `--client-id` with `--client-secret` (or the
 * `ZITADEL_CLIENT_SECRET` environment variable, which `ps` cannot see).
 *
 * @example
 * ```ts
 * requireCredentials(args, process.env); // { kind: 'key', key: './api-key.json' }
 * ```
 */
export function requireCredentials(args: CommandArgs, env: NodeJS.ProcessEnv): Credentials {
  const clientSecret = args.clientSecret ?? env.ZITADEL_CLIENT_SECRET;
  if (args.key !== undefined) {
    if (args.clientId !== undefined || args.clientSecret !== undefined) {
      throw new UsageError('give either --key or --client-id with --client-secret, not both');
    }
    if (args.key === '') throw new UsageError('--key needs a key file path');
    return { kind: 'key', key: args.key };
  }
  if (args.clientId === undefined && args.clientSecret === undefined) {
    throw new UsageError('give --key FILE, or --client-id with --client-secret');
  }
  if (!args.clientId) throw new UsageError('--client-secret needs --client-id');
  if (!clientSecret) {
    throw new UsageError('--client-id needs --client-secret (or ZITADEL_CLIENT_SECRET)');
  }
  return { kind: 'secret', clientId: args.clientId, clientSecret };
}

/**
 * Scopes from repeated and space-joined `--scope` values, without duplicates;
 * `openid` when none was given.
 *
 * @example
 * ```ts
 * scopesOf({ scope: ['openid profile', 'openid'] } as CommandArgs); // ['openid', 'profile']
 * ```
 */
export function scopesOf(args: CommandArgs): string[] {
  const scopes = args.scope.flatMap((value) => value.split(/\s+/)).filter(Boolean);
  return scopes.length > 0 ? [...new Set(scopes)] : ['openid'];
}

/**
 * Rejects positionals a command does not take, without echoing them.
 *
 * @example
 * ```ts
 * noPositionals(args); // throws UsageError when any were given
 * ```
 */
export function noPositionals(args: CommandArgs): void {
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument (${args.positionals.length} given, none expected)`);
  }
}

/**
 * Opaque tokens and secrets are base64url, so one in 64 starts with `-`;
 * parseArgs would take it for a bundle of short options (or refuse it as an
 * option's value). Our only short option is `-h`, so any other word of a
 * dash and more characters is a value: it is glued to the option before it
 * when that option takes a string (`--client-secret -abc`), else it becomes
 * a positional (placed after `--`, keeping the order of positionals).
 */
function dashedValuesAsWords(argv: string[], options: Record<string, { type: string }>): string[] {
  const leading: string[] = [];
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    const next = argv[index + 1];
    if (takesString(arg, options) && next !== undefined && isDashedWord(next)) {
      leading.push(`${arg}=${next}`);
      index++;
    } else if (isDashedWord(arg)) positionals.push(arg);
    else leading.push(arg);
  }
  return positionals.length > 0 ? [...leading, '--', ...positionals] : leading;
}

/** `-abc…` but not `-`, `-h`, `-x` or `--anything`. */
function isDashedWord(arg: string): boolean {
  return arg.length > 2 && arg[0] === '-' && arg[1] !== '-';
}

function takesString(arg: string, options: Record<string, { type: string }>): boolean {
  const name = arg.startsWith('--') ? arg.slice(2) : undefined;
  return name !== undefined && Object.hasOwn(options, name) && options[name].type === 'string';
}

/** parseArgs' own messages quote the offending argument; keep only its option name. */
function describeParseError(error: Error & { code?: string }): string {
  const name = /'(-{1,2}[A-Za-z][\w-]*)/.exec(error.message)?.[1];
  const option = name ? `option ${name}` : 'option';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown ${option}`;
  // Otherwise ERR_PARSE_ARGS_INVALID_OPTION_VALUE: positionals are allowed, so nothing else is thrown.
  return /does not take/.test(error.message)
    ? `${option} takes no value`
    : `${option} needs a value`;
}
