/**
 * The calling side with a personal access token: no token request at all,
 * the PAT is the access token. ZITADEL issues PATs for the project with its
 * roles, so no scopes are asked for.
 *
 *   ZITADEL_PAT=… API_URL=http://127.0.0.1:3000/api/me npx tsx examples/pat-client.ts
 */
import { serviceUserTokenSource } from '../lib';
import { callApi, ExitCode, usage } from './call-api';
import { missingEnv, type Output } from './shared';

/**
 * Calls `API_URL` with the PAT in `ZITADEL_PAT`. Resolves to the exit code
 * (0: the API answered 2xx).
 *
 * @example
 * ```ts
 * process.exitCode = await main({ ZITADEL_PAT: patFromYourVault, API_URL: 'http://127.0.0.1:3000/api/me' });
 * ```
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: Output = console,
): Promise<ExitCode> {
  const missing = missingEnv(env, ['ZITADEL_PAT']);
  if (missing.length > 0) {
    out.error(
      usage('pat-client.ts', missing, [
        "ZITADEL_PAT         the service user's personal access token",
        'ZITADEL_ISSUER      optional, unused: a PAT needs no token request',
      ]),
    );
    return ExitCode.Usage;
  }
  // The issuer is not contacted for a PAT; the same source type keeps callers uniform.
  const source = serviceUserTokenSource({
    issuer: env.ZITADEL_ISSUER ?? '',
    pat: env.ZITADEL_PAT as string,
  });
  return callApi(source, env, out);
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
