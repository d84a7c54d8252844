/**
 * The part the three client examples share: call the API with a service
 * user's token and print what it answered.
 */
import type { TokenSource } from '../lib';
import type { Output } from './shared';

/** Where the clients call when `API_URL` is not set: the example API's `/api/me`. */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000/api/me';

/**
 * Exit codes of the client examples.
 *
 * @example
 * ```ts
 * process.exitCode = await main(); // ExitCode.Ok, ExitCode.Usage or ExitCode.Failed
 * ```
 */
export enum ExitCode {
  /** The API answered 2xx. */
  Ok = 0,
  /** Something to set is missing. */
  Usage = 1,
  /** No token (the token endpoint refused or is unreachable), the API is unreachable, or it answered non-2xx. */
  Failed = 2,
}

/**
 * Gets a token from `source`, calls `API_URL` (default {@link DEFAULT_API_URL})
 * with `API_METHOD` (default `GET`) and prints the status and the body.
 *
 * @example
 * ```ts
 * const source = serviceUserTokenSource({ issuer, key: './service-user.json', scope });
 * process.exitCode = await callApi(source, { API_URL: 'http://127.0.0.1:3000/api/reports' });
 * ```
 */
export async function callApi(
  source: TokenSource,
  env: NodeJS.ProcessEnv,
  out: Output = console,
): Promise<ExitCode> {
  const url = env.API_URL || DEFAULT_API_URL;
  const method = (env.API_METHOD || 'GET').toUpperCase();
  let authorization: string;
  try {
    authorization = await source.authorizationHeader();
  } catch (error) {
    // TokenRequestError and ConfigError messages name the failure, never the key or secret.
    out.error(`no token: ${(error as Error).message}`);
    return ExitCode.Failed;
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers: { authorization } });
  } catch (error) {
    const reason =
      ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    out.error(`${method} ${url} failed: ${reason}`);
    return ExitCode.Failed;
  }
  out.log(`${method} ${url} → ${response.status}`);
  out.log(prettyBody(await response.text()));
  return response.ok ? ExitCode.Ok : ExitCode.Failed;
}

/**
 * The usage text of a client example: what is missing and what to set.
 *
 * @example
 * ```ts
 * out.error(usage('jwt-bearer-client.ts', ['ZITADEL_KEY_FILE'], ['ZITADEL_KEY_FILE  the key file']));
 * ```
 */
export function usage(script: string, missing: string[], variables: string[]): string {
  return [
    `Missing: ${missing.join(', ')}.`,
    '',
    ...variables.map((line) => `  ${line}`),
    `  API_URL             default ${DEFAULT_API_URL}`,
    '  API_METHOD          default GET',
    '',
    `Then: npx tsx examples/${script}`,
  ].join('\n');
}

function prettyBody(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
