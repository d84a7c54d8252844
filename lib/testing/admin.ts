/**
 * The changes a ZITADEL admin makes to service users (runs in the child
 * process): revoke a token, deactivate, reactivate or remove a user, change
 * its roles. Each resolves once the event it causes was handed to `emit`
 * (which delivers it to the registered targets).
 */
import type { Provider } from 'oidc-provider';
import type { Directory, ServiceUser } from './directory';
import { grantIds, validRoles } from './service-users';

/**
 * An event as ZITADEL stores it, before it is shaped for a target.
 *
 * @example
 * ```ts
 * const event: StoredEvent = { type: 'user.deactivated', aggregateType: 'user', aggregateId: user.id, resourceOwner: user.orgId, payload: null };
 * ```
 */
export interface StoredEvent {
  type: string;
  aggregateType: 'user' | 'usergrant' | 'oidc_session';
  aggregateId: string;
  resourceOwner: string;
  payload: Record<string, unknown> | null;
}

/**
 * A JWT the kit issued, as `revokeToken` sees it.
 *
 * @example
 * ```ts
 * const found: IssuedJwt | undefined = jwtTokens.find(token);
 * ```
 */
export interface IssuedJwt {
  userId: string;
  /** `<oidcSessionId>.<accessTokenId>`, as ZITADEL's v2 token ids. */
  jti: string;
  revoke(): void;
}

/**
 * What the admin operations need from the issuer.
 *
 * @example
 * ```ts
 * const admin = createAdmin({ provider, directory, nextId, findJwt, emit });
 * ```
 */
export interface AdminEnv {
  provider: Provider;
  directory: Directory;
  nextId: () => string;
  findJwt(token: string): IssuedJwt | undefined;
  emit(events: StoredEvent[]): Promise<void>;
}

/**
 * The admin operations.
 *
 * @example
 * ```ts
 * await admin.deactivateUser(userId);
 * ```
 */
export interface Admin {
  revokeToken(token: string): Promise<void>;
  deactivateUser(userId: string): Promise<void>;
  reactivateUser(userId: string): Promise<void>;
  removeUser(userId: string): Promise<void>;
  setRoles(userId: string, roles: Record<string, string[]>): Promise<void>;
}

/**
 * Creates the admin operations over one issuer.
 *
 * @example
 * ```ts
 * const admin = createAdmin(env);
 * await admin.setRoles(userId, { reader: ['org-1'] });
 * ```
 */
export function createAdmin(env: AdminEnv): Admin {
  const { directory } = env;
  const userEvent = (user: ServiceUser, type: string, payload: StoredEvent['payload'] = null) =>
    ({
      type,
      aggregateType: 'user',
      aggregateId: user.id,
      resourceOwner: user.orgId,
      payload,
    }) as const;
  const existingUser = (userId: string) => {
    const user = directory.userById(userId);
    if (!user) throw new Error(`no service user with id ${String(userId)}`);
    return user;
  };

  return {
    async revokeToken(token) {
      await env.emit(await revoke(env, token));
    },
    async deactivateUser(userId) {
      const user = existingUser(userId);
      user.active = false;
      await env.emit([userEvent(user, 'user.deactivated')]);
    },
    async reactivateUser(userId) {
      const user = existingUser(userId);
      user.active = true;
      await env.emit([userEvent(user, 'user.reactivated')]);
    },
    async removeUser(userId) {
      const user = existingUser(userId);
      directory.removeUser(user);
      await env.emit([userEvent(user, 'user.removed')]);
    },
    async setRoles(userId, roles) {
      const user = existingUser(userId);
      const before = user.grants;
      user.roles = structuredClone(validRoles(roles));
      user.grants = grantIds(user.roles, env.nextId, before);
      await env.emit(grantChanges(env.directory.projectId, user, before));
    },
  };
}

/**
 * The events ZITADEL stores for a new user's grants (`user.grant.added`, one per granting org).
 *
 * @example
 * ```ts
 * await emit(grantChanges(projectId, user, {}));
 * ```
 */
export function grantChanges(
  projectId: string,
  user: ServiceUser,
  before: Record<string, string>,
): StoredEvent[] {
  const roleKeys = (orgId: string) =>
    Object.keys(user.roles).filter((role) => user.roles[role]?.includes(orgId));
  const grantEvent = (
    orgId: string,
    grantId: string,
    type: string,
    payload: StoredEvent['payload'],
  ) =>
    ({
      type,
      aggregateType: 'usergrant',
      aggregateId: grantId,
      resourceOwner: orgId,
      payload,
    }) as const;
  const events: StoredEvent[] = [];
  for (const [orgId, grantId] of Object.entries(user.grants)) {
    events.push(
      before[orgId]
        ? grantEvent(orgId, grantId, 'user.grant.changed', { roleKeys: roleKeys(orgId) })
        : grantEvent(orgId, grantId, 'user.grant.added', {
            userId: user.id,
            projectId,
            roleKeys: roleKeys(orgId),
          }),
    );
  }
  for (const [orgId, grantId] of Object.entries(before)) {
    if (!user.grants[orgId]) events.push(grantEvent(orgId, grantId, 'user.grant.removed', null));
  }
  return events;
}

/** Revokes a PAT, a JWT or an opaque token; throws for a token the kit does not know. */
async function revoke(env: AdminEnv, token: string): Promise<StoredEvent[]> {
  const { provider, directory } = env;
  const patOwner = typeof token === 'string' ? directory.userByPat(token) : undefined;
  if (patOwner?.pat) {
    await (await provider.AccessToken.find(token))?.destroy();
    const { tokenId } = patOwner.pat;
    patOwner.pat = undefined;
    return [userTokenEvent(patOwner, 'user.pat.removed', tokenId)];
  }
  const jwt = env.findJwt(token);
  if (jwt) {
    jwt.revoke();
    const user = directory.userById(jwt.userId);
    const sessionId = jwt.jti.split('.')[0] as string;
    return [
      {
        type: 'oidc_session.access_token.revoked',
        aggregateType: 'oidc_session',
        aggregateId: sessionId,
        resourceOwner: user?.orgId ?? '',
        payload: {},
      },
    ];
  }
  const opaque =
    (await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token));
  const owner = directory.userById(opaque?.accountId) ?? directory.userByClientId(opaque?.clientId);
  if (!opaque || !owner) {
    throw new Error('revokeToken: not a live token of this local ZITADEL');
  }
  await opaque.destroy();
  return [userTokenEvent(owner, 'user.token.removed', opaque.jti)];
}

function userTokenEvent(user: ServiceUser, type: string, tokenId: string): StoredEvent {
  return {
    type,
    aggregateType: 'user',
    aggregateId: user.id,
    resourceOwner: user.orgId,
    payload: { tokenId },
  };
}
