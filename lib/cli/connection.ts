/**
 * The CLI's wire to ZITADEL, step by step (credentials, discovery, one
 * introspection call), so that `check` can tell which step failed and
 * `introspect` sees ZITADEL's answer as it is, without a cache.
 */
import { loadKeyFile } from '../zitadel/key-file';
import { createDiscovery, type ProviderMetadata } from '../zitadel/discovery';
import { introspectToken, type ClientAuthentication } from '../zitadel/introspection';
import type { Credentials } from './args';

export type { ProviderMetadata } from '../zitadel/discovery';
export type { ClientAuthentication } from '../zitadel/introspection';

const TIMEOUT_MS = 5000;
const RETRIES = 1;

/**
 * The API application's client authentication: its key file (must be of
 * type `application`), or its client id and secret.
 *
 * @throws {ConfigError} naming the key-file field at fault.
 *
 * @example
 * ```ts
 * const auth = await loadClientAuthentication({ kind: 'key', key: './api-key.json' });
 * auth.clientId; // '301255716950934017@billing'
 * ```
 */
export async function loadClientAuthentication(
  credentials: Credentials,
): Promise<ClientAuthentication> {
  if (credentials.kind === 'secret') {
    const { clientId, clientSecret } = credentials;
    return { method: 'client_secret_basic', clientId, clientSecret };
  }
  const key = await loadKeyFile(credentials.key, 'application');
  return { method: 'private_key_jwt', clientId: key.clientId, key };
}

/**
 * Reads `{issuer}/.well-known/openid-configuration` once.
 *
 * @throws {IntrospectionUnavailableError} unreachable or 5xx.
 * @throws {ConfigError} not a usable document, or one naming another issuer.
 *
 * @example
 * ```ts
 * const { introspectionEndpoint } = await discover('https://acme.zitadel.cloud');
 * ```
 */
export function discover(issuer: string): Promise<ProviderMetadata> {
  return createDiscovery({ issuer, timeoutMs: TIMEOUT_MS }).get();
}

/**
 * One introspection call (one retry after a network error or a 5xx); the
 * answer as ZITADEL sent it.
 *
 * @example
 * ```ts
 * const answer = await introspect(token, metadata, auth);
 * answer.active; // true or false
 * ```
 */
export function introspect(
  token: string,
  metadata: ProviderMetadata,
  auth: ClientAuthentication,
): Promise<Record<string, unknown>> {
  return introspectToken(token, {
    endpoint: metadata.introspectionEndpoint,
    audience: metadata.issuer,
    auth,
    timeoutMs: TIMEOUT_MS,
    retries: RETRIES,
  });
}
