/**
 * What the local ZITADEL knows: one project, its API apps and its service
 * users with their roles and keys. The provider's policies, grants and claims
 * all look things up here.
 */
import type { KeyObject } from 'node:crypto';

/**
 * A registered service user.
 *
 * @example
 * ```ts
 * const user: ServiceUser = { id, name: 'worker', auth: 'key', roles: {}, grants: {}, orgId, clientId: id, active: true, accessTokenType: 'opaque' };
 * ```
 */
export interface ServiceUser {
  id: string;
  name: string;
  auth: 'key' | 'secret' | 'pat';
  /** Role → ids of the granting organizations. */
  roles: Record<string, string[]>;
  /** ZITADEL keeps one user grant per granting organization: org id → grant id. */
  grants: Record<string, string>;
  /** Resource owner organization. */
  orgId: string;
  /** The oidc-provider client its tokens carry (`client_id` at introspection). */
  clientId: string;
  /** False once deactivated: its tokens introspect inactive and it gets no new ones. */
  active: boolean;
  /** Opaque tokens from oidc-provider, or JWTs the kit signs itself. */
  accessTokenType: 'opaque' | 'jwt';
  /** `auth: 'pat'`: the token and its id (the `tokenId` of `user.pat.removed`). */
  pat?: { value: string; tokenId: string };
}

/**
 * The resource owner org of users created without `orgId`.
 *
 * @example
 * ```ts
 * const orgId = options.orgId ?? DEFAULT_ORG.id;
 * ```
 */
export const DEFAULT_ORG = { id: '287341520960790529', name: 'local' } as const;

/**
 * The project's name, as it appears in API app client ids (`<appId>@<name>`).
 *
 * @example
 * ```ts
 * const clientId = `${appId}@${PROJECT_NAME}`;
 * ```
 */
export const PROJECT_NAME = 'local';

/**
 * The registry behind one local issuer.
 *
 * @example
 * ```ts
 * const directory = new Directory('300000000000000001');
 * directory.addUser(user);
 * ```
 */
export class Directory {
  private readonly users = new Map<string, ServiceUser>();
  private readonly usersByClientId = new Map<string, ServiceUser>();
  private readonly keys = new Map<string, { userId: string; publicKey: KeyObject }>();
  private readonly reservedClientIds = new Set<string>();

  constructor(readonly projectId: string) {}

  /** Marks a client id as taken (API apps, the public JWT-bearer client). */
  reserveClientId(clientId: string): void {
    this.reservedClientIds.add(clientId);
  }

  isNameTaken(name: string): boolean {
    return [...this.users.values()].some((user) => user.name === name);
  }

  isClientIdTaken(clientId: string): boolean {
    return this.reservedClientIds.has(clientId) || this.usersByClientId.has(clientId);
  }

  addUser(user: ServiceUser): void {
    this.users.set(user.id, user);
    this.usersByClientId.set(user.clientId, user);
  }

  /** Forgets the user, its keys and its client id (its tokens then introspect inactive). */
  removeUser(user: ServiceUser): void {
    this.users.delete(user.id);
    this.usersByClientId.delete(user.clientId);
    for (const [keyId, key] of this.keys) if (key.userId === user.id) this.keys.delete(keyId);
  }

  /** The user whose PAT this is. */
  userByPat(value: string): ServiceUser | undefined {
    return [...this.users.values()].find((user) => user.pat?.value === value);
  }

  addKey(keyId: string, userId: string, publicKey: KeyObject): void {
    this.keys.set(keyId, { userId, publicKey });
  }

  userById(id: string | undefined): ServiceUser | undefined {
    return id === undefined ? undefined : this.users.get(id);
  }

  userByClientId(clientId: string | undefined): ServiceUser | undefined {
    return clientId === undefined ? undefined : this.usersByClientId.get(clientId);
  }

  keyById(keyId: string | undefined): { userId: string; publicKey: KeyObject } | undefined {
    return keyId === undefined ? undefined : this.keys.get(keyId);
  }
}

/**
 * The primary domain ZITADEL would give an organization.
 *
 * @example
 * ```ts
 * orgDomain('org-1'); // 'org-1.localhost'
 * ```
 */
export function orgDomain(orgId: string): string {
  return `${orgId}.localhost`;
}

/**
 * The organization's display name.
 *
 * @example
 * ```ts
 * orgName(DEFAULT_ORG.id); // 'local'
 * ```
 */
export function orgName(orgId: string): string {
  return orgId === DEFAULT_ORG.id ? DEFAULT_ORG.name : orgId;
}
