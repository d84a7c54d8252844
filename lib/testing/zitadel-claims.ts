/**
 * ZITADEL's reserved scopes and the token claims they unlock: the project
 * audience, project roles per organization and the resource owner.
 */
import { orgDomain, orgName } from './directory';

const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
/**
 * The scope that unlocks the resource owner claims.
 *
 * @example
 * ```ts
 * if (scopes.has(RESOURCE_OWNER_SCOPE)) Object.assign(claims, resourceOwnerClaims(user.orgId));
 * ```
 */
export const RESOURCE_OWNER_SCOPE = 'urn:zitadel:iam:user:resourceowner';
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
 * The role claims ZITADEL puts in a JWT access token (and in every
 * introspection answer): generic and project-specific, when the user has roles.
 *
 * @example
 * ```ts
 * const claims = { ...projectRoleClaims(user.roles, projectId) };
 * ```
 */
export function projectRoleClaims(
  roles: Record<string, string[]>,
  projectId: string,
): Record<string, unknown> {
  const granted = Object.fromEntries(Object.entries(roles).filter(([, orgIds]) => orgIds.length));
  if (Object.keys(granted).length === 0) return {};
  const claim = roleClaim(granted);
  return {
    'urn:zitadel:iam:org:project:roles': claim,
    [`urn:zitadel:iam:org:project:${projectId}:roles`]: claim,
  };
}

/**
 * `urn:zitadel:iam:user:resourceowner:{id,name,primary_domain}`.
 *
 * @example
 * ```ts
 * resourceOwnerClaims('org-9')['urn:zitadel:iam:user:resourceowner:primary_domain']; // 'org-9.localhost'
 * ```
 */
export function resourceOwnerClaims(orgId: string): Record<string, string> {
  return {
    'urn:zitadel:iam:user:resourceowner:id': orgId,
    'urn:zitadel:iam:user:resourceowner:name': orgName(orgId),
    'urn:zitadel:iam:user:resourceowner:primary_domain': orgDomain(orgId),
  };
}

/**
 * `{ role: { orgId: domain } }`, ZITADEL's shape of project roles.
 *
 * @example
 * ```ts
 * roleClaim({ reader: ['org-1'] }); // { reader: { 'org-1': 'org-1.localhost' } }
 * ```
 */
export function roleClaim(roles: Record<string, string[]>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(roles).map(([role, orgIds]) => [
      role,
      Object.fromEntries(orgIds.map((orgId) => [orgId, orgDomain(orgId)])),
    ]),
  );
}
