/**
 * Creating service users (ZITADEL "machine users") in the running issuer:
 * a key for the JWT-bearer grant, a client secret for client credentials, or
 * a personal access token.
 */
import { createPublicKey } from 'node:crypto';
import type { ClientMetadata, Provider } from 'oidc-provider';
import { DEFAULT_ORG, type Directory, type ServiceUser } from './directory';
import { JWT_BEARER_GRANT } from './grants';
import { generateRsaKey, newClientSecret } from './keys';
import type { ServiceUserCredentials, ServiceUserOptions } from './types';
import { patScope } from './zitadel-claims';

/**
 * What creating a user needs from the issuer.
 *
 * @example
 * ```ts
 * const env: ServiceUserEnv = { provider, directory, nextId, patTtlSeconds: 3600 };
 * ```
 */
export interface ServiceUserEnv {
  provider: Provider;
  directory: Directory;
  nextId: () => string;
  patTtlSeconds: number;
}

/**
 * Registers a service user and makes its credentials.
 *
 * @example
 * ```ts
 * const { userId, pat } = await createServiceUser(env, { name: 'cron', auth: 'pat' });
 * ```
 */
export async function createServiceUser(
  env: ServiceUserEnv,
  options: ServiceUserOptions,
): Promise<Omit<ServiceUserCredentials, 'keyPath'>> {
  const { provider, directory, nextId } = env;
  const { name, auth, roles, orgId, accessTokenType } = validate(directory, options);
  const userId = nextId();
  // As ZITADEL: client-credentials users authenticate with their name, the others' tokens carry their id.
  const clientId = auth === 'secret' ? name : userId;
  const user: ServiceUser = {
    id: userId,
    name,
    auth,
    roles,
    grants: grantIds(roles, nextId),
    orgId,
    clientId,
    active: true,
    accessTokenType,
  };
  const publicClient = {
    client_id: clientId,
    token_endpoint_auth_method: 'none',
    response_types: [],
    redirect_uris: [],
  };

  if (auth === 'secret') {
    const clientSecret = newClientSecret();
    await registerClient(provider, directory, {
      ...publicClient,
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
    });
    directory.addUser(user);
    return { userId, clientId, clientSecret };
  }

  if (auth === 'key') {
    const key = await generateRsaKey();
    const keyId = nextId();
    await registerClient(provider, directory, { ...publicClient, grant_types: [JWT_BEARER_GRANT] });
    directory.addUser(user);
    directory.addKey(keyId, userId, createPublicKey({ key: key.publicJwk, format: 'jwk' }));
    return { userId, keyFile: { type: 'serviceaccount', keyId, key: key.privatePem, userId } };
  }

  await registerClient(provider, directory, { ...publicClient, grant_types: [] });
  directory.addUser(user);
  const token = new provider.AccessToken({
    accountId: userId,
    clientId,
    scope: patScope(directory.projectId),
    aud: [userId, directory.projectId],
    gty: 'personal_access_token',
    expiresIn: env.patTtlSeconds,
  });
  const pat = await token.save();
  user.pat = { value: pat, tokenId: nextId() };
  return { userId, pat };
}

/**
 * Stores a client in the issuer and loads it once, so that invalid metadata
 * fails here rather than at the first request.
 *
 * @example
 * ```ts
 * await registerClient(provider, directory, { client_id: 'api@local', ... });
 * ```
 */
export async function registerClient(
  provider: Provider,
  directory: Directory,
  metadata: ClientMetadata,
): Promise<void> {
  await provider.Client.adapter.upsert(metadata.client_id, metadata);
  await provider.Client.find(metadata.client_id);
  directory.reserveClientId(metadata.client_id);
}

/**
 * One user grant per organization that granted roles, as ZITADEL stores them.
 *
 * @example
 * ```ts
 * grantIds({ reader: ['org-1'], admin: ['org-1', 'org-2'] }, nextId); // { 'org-1': '…', 'org-2': '…' }
 * ```
 */
export function grantIds(
  roles: Record<string, string[]>,
  nextId: () => string,
  existing: Record<string, string> = {},
): Record<string, string> {
  const orgIds = new Set(Object.values(roles).flat());
  return Object.fromEntries([...orgIds].map((orgId) => [orgId, existing[orgId] ?? nextId()]));
}

/**
 * Checks a roles map (role → organization ids).
 *
 * @example
 * ```ts
 * validRoles({ reader: ['org-1'] }); // returns it
 * ```
 */
export function validRoles(roles: unknown): Record<string, string[]> {
  const valid =
    typeof roles === 'object' &&
    roles !== null &&
    !Array.isArray(roles) &&
    Object.values(roles).every(
      (orgIds) => Array.isArray(orgIds) && orgIds.every((id) => typeof id === 'string' && id),
    );
  if (!valid) throw new Error('roles must map each role to a list of organization ids');
  return roles as Record<string, string[]>;
}

function validate(directory: Directory, options: ServiceUserOptions): Required<ServiceUserOptions> {
  const {
    name,
    auth,
    roles = {},
    orgId = DEFAULT_ORG.id,
    accessTokenType = 'opaque',
  } = options ?? {};
  if (typeof name !== 'string' || !/^[\w.@-]+$/.test(name)) {
    throw new Error('name must be a non-empty string of letters, digits, _ . @ -');
  }
  if (auth !== 'key' && auth !== 'secret' && auth !== 'pat') {
    throw new Error("auth must be 'key', 'secret' or 'pat'");
  }
  if (directory.isNameTaken(name) || (auth === 'secret' && directory.isClientIdTaken(name))) {
    throw new Error(`a service user or client named ${name} exists already`);
  }
  if (typeof orgId !== 'string' || !orgId) throw new Error('orgId must be a non-empty string');
  if (accessTokenType !== 'opaque' && accessTokenType !== 'jwt') {
    throw new Error("accessTokenType must be 'opaque' or 'jwt'");
  }
  return { name, auth, roles: validRoles(roles), orgId, accessTokenType };
}
