/**
 * ZITADEL's reserved scopes and the token claims they unlock: the project
 * audience, project roles per organization and the resource owner.
 */
import { orgDomain, orgName, type ServiceUser } from './directory';

const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
const RESOURCE_OWNER_SCOPE = 'urn:zitadel:iam:user:resourceowner';
const PROJECT_AUDIENCE_SCOPE = /^urn:zitadel:iam:org:project:id:([^:\s]+):aud$/;

/**
 * The scope string ZITADEL would record: the requested scopes, space-joined,
 * `openid` when none was asked for.
 *
 * @example
 * ```ts
 * normalizeScope(undefined); // 'openid'
 * ```
 */
export function normalizeScope(requested: unknown): string {
  const scopes = typeof requested === 'string' ? requested.split(' ').filter(Boolean) : [];
  return scopes.length > 0 ? [...new Set(scopes)].join(' ') : 'openid';
}

/**
 * The scopes a PAT carries: ZITADEL PATs always reach the project with roles.
 *
 * @example
 * ```ts
 * patScope('300000000000000001');
 * ```
 */
export function patScope(projectId: string): string {
  return [
    'openid',
    'profile',
    `urn:zitadel:iam:org:project:id:${projectId}:aud`,
    ROLES_SCOPE,
    RESOURCE_OWNER_SCOPE,
  ].join(' ');
}

/**
 * `aud` of a token: the user's client, plus every project asked for with
 * `urn:zitadel:iam:org:project:id:{projectId}:aud`.
 *
 * @example
 * ```ts
 * audienceFor('u-1', 'openid urn:zitadel:iam:org:project:id:42:aud'); // ['u-1', '42']
 * ```
 */
export function audienceFor(clientId: string, scope: string): string[] {
  const audience = [clientId];
  for (const item of scope.split(' ')) {
    const projectId = PROJECT_AUDIENCE_SCOPE.exec(item)?.[1];
    if (projectId && !audience.includes(projectId)) audience.push(projectId);
  }
  return audience;
}

/**
 * The claims ZITADEL adds to a service user's token (and so to the
 * introspection answer), gated by the scopes the token was issued for.
 *
 * @example
 * ```ts
 * const extra = zitadelClaims(user, token.scope, projectId);
 * ```
 */
export function zitadelClaims(
  user: ServiceUser,
  scope: string | undefined,
  projectId: string,
): Record<string, unknown> {
  const scopes = new Set((scope ?? '').split(' '));
  const claims: Record<string, unknown> = {
    sub: user.id,
    username: user.name,
    preferred_username: user.name,
    name: user.name,
  };
  if (scopes.has(ROLES_SCOPE)) {
    const roles = roleClaim(user.roles);
    claims['urn:zitadel:iam:org:project:roles'] = roles;
    claims[`urn:zitadel:iam:org:project:${projectId}:roles`] = roles;
  }
  if (scopes.has(RESOURCE_OWNER_SCOPE)) {
    claims['urn:zitadel:iam:user:resourceowner:id'] = user.orgId;
    claims['urn:zitadel:iam:user:resourceowner:name'] = orgName(user.orgId);
    claims['urn:zitadel:iam:user:resourceowner:primary_domain'] = orgDomain(user.orgId);
  }
  return claims;
}

/** `{ role: { orgId: domain } }`, ZITADEL's shape of project roles. */
function roleClaim(roles: Record<string, string[]>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(roles).map(([role, orgIds]) => [
      role,
      Object.fromEntries(orgIds.map((orgId) => [orgId, orgDomain(orgId)])),
    ]),
  );
}
