/**
 * The API application's own credentials, loaded once: a key file
 * (private_key_jwt) or a client id and secret (client_secret_basic).
 */
import { loadKeyFile, type KeySource } from './zitadel/key-file';
import { loadOnce } from './zitadel/load-once';
import type { ClientAuthentication } from './zitadel/introspection';

const RETRY_AFTER_FAILURE_MS = 5000;

/**
 * Credentials that may need loading: `clientId()` answers synchronously once
 * known, so the cache key of a hot request needs no await.
 */
export interface ClientAuthenticationSource {
  clientId(): string | undefined;
  load(): Promise<ClientAuthentication>;
}

/**
 * A key file is read on first use and kept; a failure (missing file, bad
 * JSON) is kept for 5 s, so a flood of requests does not re-read the disk,
 * and a fixed file heals without a restart.
 *
 * @example
 * ```ts
 * const auth = createClientAuthentication({ kind: 'key', key: './api-key.json' }, Date.now);
 * const { clientId } = await auth.load();
 * ```
 */
export function createClientAuthentication(
  credentials:
    { kind: 'key'; key: KeySource } | { kind: 'secret'; clientId: string; clientSecret: string },
  now: () => number,
): ClientAuthenticationSource {
  if (credentials.kind === 'secret') {
    const auth: ClientAuthentication = {
      method: 'client_secret_basic',
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    };
    return { clientId: () => auth.clientId, load: () => Promise.resolve(auth) };
  }

  const auth = loadOnce(
    () =>
      loadKeyFile(credentials.key, 'application').then((key): ClientAuthentication => ({
        method: 'private_key_jwt',
        clientId: key.clientId,
        key,
      })),
    { retryIntervalMs: RETRY_AFTER_FAILURE_MS, now },
  );
  return { clientId: () => auth.value()?.clientId, load: auth.get };
}
