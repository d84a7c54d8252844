/**
 * Public types of `express-zitadel-introspection/testing`, shared by the
 * parent side (index.ts) and the issuer's child process.
 */

/**
 * Options of {@link startLocalZitadel}.
 *
 * @example
 * ```ts
 * const zitadel = await startLocalZitadel({ accessTokenTtlSeconds: 3, logLevel: 'errors' });
 * ```
 */
export interface LocalZitadelOptions {
  /** Lifetime of JWT-bearer and client-credentials tokens (default 3600). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of personal access tokens (default 30 days). */
  patTtlSeconds?: number;
  /** The project id (default a ZITADEL-like numeric id). */
  projectId?: string;
  /** `'errors'` prints why a grant or an introspection failed to stderr (default `'silent'`). */
  logLevel?: 'silent' | 'errors';
}

/**
 * The key file of a ZITADEL API application (used to authenticate to introspection).
 *
 * @example
 * ```ts
 * writeFileSync('api-key.json', JSON.stringify(zitadel.apiKeyFile));
 * ```
 */
export interface ApplicationKeyFile {
  type: 'application';
  keyId: string;
  /** PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`). */
  key: string;
  appId: string;
  clientId: string;
}

/**
 * The key file of a ZITADEL service user (used for the JWT-bearer grant).
 *
 * @example
 * ```ts
 * const { keyFile } = await zitadel.createServiceUser({ name: 'worker', auth: 'key' });
 * ```
 */
export interface ServiceUserKeyFile {
  type: 'serviceaccount';
  keyId: string;
  /** PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`). */
  key: string;
  userId: string;
}

/**
 * What a service user is made of.
 *
 * @example
 * ```ts
 * const opts: ServiceUserOptions = { name: 'worker', roles: { reader: ['org-1'] }, auth: 'secret' };
 * ```
 */
export interface ServiceUserOptions {
  /** Unique name; also `username`/`preferred_username`, and the client id of `auth: 'secret'`. */
  name: string;
  /** Project roles: role → ids of the organizations that granted it. */
  roles?: Record<string, string[]>;
  /** How the user gets tokens: JWT-bearer grant with a key, client credentials, or a PAT. */
  auth: 'key' | 'secret' | 'pat';
  /** The user's resource owner organization (default a fixed id). */
  orgId?: string;
}

/**
 * The credentials of a new service user; which fields are set depends on `auth`.
 *
 * @example
 * ```ts
 * const { userId, pat } = await zitadel.createServiceUser({ name: 'cron', auth: 'pat' });
 * ```
 */
export interface ServiceUserCredentials {
  userId: string;
  /** `auth: 'key'`: the key file, as ZITADEL hands it out. */
  keyFile?: ServiceUserKeyFile;
  /** `auth: 'key'`: the same key file in a temp file (removed on close). */
  keyPath?: string;
  /** `auth: 'secret'`: client id for client credentials (the user's name). */
  clientId?: string;
  /** `auth: 'secret'`: client secret (client_secret_basic). */
  clientSecret?: string;
  /** `auth: 'pat'`: the personal access token. */
  pat?: string;
}

/**
 * Added delay before each introspection answer: a fixed number of
 * milliseconds, or uniform random in `[min, max]`.
 *
 * @example
 * ```ts
 * await zitadel.setLatency({ min: 5, max: 20 });
 * ```
 */
export type Latency = number | { min: number; max: number };
