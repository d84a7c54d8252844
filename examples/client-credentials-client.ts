/**
 * The calling side with a client id and secret: the client credentials
 * grant, for a service user that has "client secret" authentication.
 *
 *   ZITADEL_ISSUER=https://acme.zitadel.cloud \
 *   ZITADEL_CLIENT_ID=invoice-worker ZITADEL_CLIENT_SECRET=… \
 *   ZITADEL_PROJECT_ID=301255683459087361 \
 *   API_METHOD=POST API_URL=http://127.0.0.1:3000/api/admin \
 *   npx tsx examples/client-credentials-client.ts
 */
import { serviceUserTokenSource } from '../lib';
import { callApi, ExitCode, usage } from './call-api';
import { missingEnv, projectScopes, type Output } from './shared';

/**
 * Gets a token with the service user's client id and secret and calls
 * `API_URL` with it. Resolves to the exit code (0: the API answered 2xx).
 *
 * @example
 * ```ts
 * process.exitCode = await main({
 *   ZITADEL_ISSUER: 'https://acme.zitadel.cloud',
 *   ZITADEL_CLIENT_ID: 'invoice-worker',
 *   ZITADEL_CLIENT_SECRET: secretFromYourVault,
 *   ZITADEL_PROJECT_ID: '301255683459087361',
 * });
 * ```
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: Output = console,
): Promise<ExitCode> {
  const missing = missingEnv(env, [
    'ZITADEL_ISSUER',
    'ZITADEL_CLIENT_ID',
    'ZITADEL_CLIENT_SECRET',
    'ZITADEL_PROJECT_ID',
  ]);
  if (missing.length > 0) {
    out.error(
      usage('client-credentials-client.ts', missing, [
        'ZITADEL_ISSUER         your instance, e.g. https://acme.zitadel.cloud',
        "ZITADEL_CLIENT_ID      the service user's client id",
        "ZITADEL_CLIENT_SECRET  the service user's client secret",
        "ZITADEL_PROJECT_ID     the project of the API (puts it in the token's audience)",
      ]),
    );
    return ExitCode.Usage;
  }
  const source = serviceUserTokenSource({
    issuer: env.ZITADEL_ISSUER as string,
    clientId: env.ZITADEL_CLIENT_ID as string,
    clientSecret: env.ZITADEL_CLIENT_SECRET as string,
    scope: projectScopes(env.ZITADEL_PROJECT_ID as string),
  });
  return callApi(source, env, out);
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
