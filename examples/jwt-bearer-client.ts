/**
 * The calling side with a service-user key file: the JWT-bearer grant
 * (RFC 7523), ZITADEL's recommended way for service users.
 *
 *   ZITADEL_ISSUER=https://acme.zitadel.cloud \
 *   ZITADEL_KEY_FILE=./service-user.json \
 *   ZITADEL_PROJECT_ID=301255683459087361 \
 *   API_URL=http://127.0.0.1:3000/api/reports npx tsx examples/jwt-bearer-client.ts
 */
import { serviceUserTokenSource } from '../lib';
import { callApi, ExitCode, usage } from './call-api';
import { missingEnv, projectScopes, type Output } from './shared';

/**
 * Gets a token with the service user's key and calls `API_URL` with it.
 * Resolves to the exit code (0: the API answered 2xx).
 *
 * @example
 * ```ts
 * process.exitCode = await main({
 *   ZITADEL_ISSUER: 'https://acme.zitadel.cloud',
 *   ZITADEL_KEY_FILE: './service-user.json',
 *   ZITADEL_PROJECT_ID: '301255683459087361',
 *   API_URL: 'http://127.0.0.1:3000/api/reports',
 * });
 * ```
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: Output = console,
): Promise<ExitCode> {
  const missing = missingEnv(env, ['ZITADEL_ISSUER', 'ZITADEL_KEY_FILE', 'ZITADEL_PROJECT_ID']);
  if (missing.length > 0) {
    out.error(
      usage('jwt-bearer-client.ts', missing, [
        'ZITADEL_ISSUER      your instance, e.g. https://acme.zitadel.cloud',
        'ZITADEL_KEY_FILE    the service user\'s key file (type "serviceaccount")',
        "ZITADEL_PROJECT_ID  the project of the API (puts it in the token's audience)",
      ]),
    );
    return ExitCode.Usage;
  }
  const source = serviceUserTokenSource({
    issuer: env.ZITADEL_ISSUER as string,
    key: env.ZITADEL_KEY_FILE as string,
    scope: projectScopes(env.ZITADEL_PROJECT_ID as string),
  });
  return callApi(source, env, out);
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
