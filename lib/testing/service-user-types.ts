/**
 * Public types of `express-zitadel-introspection/testing` for credentials:
 * the key files the local ZITADEL hands out, and the service users it makes.
 */

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
  /**
   * `'jwt'`: tokens from the JWT-bearer and client-credentials grants are JWTs
   * signed with the keys at `/oauth/v2/keys`, as for a ZITADEL user set to
   * token type JWT (default `'opaque'`; a PAT is always opaque).
   */
  accessTokenType?: 'opaque' | 'jwt';
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
