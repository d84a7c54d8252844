/**
 * The introspection answer as ZITADEL's code builds it
 * (`internal/api/oidc/introspect.go`, `userinfo.go`, `client_converter.go`):
 * roles of the introspecting app's project whatever the scope, `username`
 * only with `profile`, `aud` an array, a PAT's audience and role scopes, and
 * the user's current state (deactivated or removed users' tokens are
 * inactive). oidc-provider answers first; this rewrites its answer, and
 * answers JWT access tokens (which oidc-provider cannot introspect) itself.
 */
import type { Client, KoaContextWithOIDC, Next } from 'oidc-provider';
import type { Directory, ServiceUser } from './directory';
import { roleClaim, RESOURCE_OWNER_SCOPE, resourceOwnerClaims } from './zitadel-claims';

const ROLE_SCOPE_PREFIX = 'urn:zitadel:iam:org:project:role:';
const PAT_BASE_SCOPE = [
  'openid',
  'profile',
  'urn:zitadel:iam:user:metadata',
  'urn:zitadel:iam:user:resourceowner',
];

/**
 * What is known about a live token before the answer is shaped.
 *
 * @example
 * ```ts
 * const facts: TokenFacts = { userId, scope: 'openid', aud: [userId], clientId: userId, exp, iat, isPat: false };
 * ```
 */
export interface TokenFacts {
  userId: string;
  scope: string;
  aud: string[];
  /** The app that obtained the token (absent in a PAT's answer). */
  clientId: string;
  exp: number;
  iat: number;
  jti?: string;
  isPat: boolean;
}

/**
 * What the rewriting needs from the issuer.
 *
 * @example
 * ```ts
 * provider.use(zitadelIntrospection({ path, issuer, directory, lookupJwt }));
 * ```
 */
export interface IntrospectionEnv {
  path: string;
  issuer: string;
  directory: Directory;
  /** A JWT the kit issued and still honours (signature, expiry, revocation), else undefined. */
  lookupJwt(token: string): Promise<TokenFacts | undefined>;
}

/**
 * Koa middleware for `provider.use()`: rewrites every introspection answer.
 *
 * @example
 * ```ts
 * provider.use(zitadelIntrospection(env));
 * ```
 */
export function zitadelIntrospection(env: IntrospectionEnv) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    if (ctx.method !== 'POST' || ctx.path !== env.path) return next();
    await next();
    ctx.set('cache-control', 'no-store');
    ctx.set('pragma', 'no-cache');
    if (ctx.status === 401) {
      // ZITADEL answers any rejected client authentication so, without a description.
      ctx.status = 400;
      ctx.remove('www-authenticate');
      ctx.body = { error: 'unauthorized_client' };
      return;
    }
    const answer = ctx.body as Record<string, unknown> | undefined;
    const client = ctx.oidc.client;
    // oidc-provider refuses JWTs after authenticating the client: the kit answers those itself.
    const isJwt = ctx.status === 400 && answer?.error === 'unsupported_token_type';
    if (!(ctx.status === 200 || isJwt) || !answer || !client) return;
    const token = ctx.oidc.params?.token;
    const facts = answer.active
      ? factsFromProvider(answer, env.directory)
      : typeof token === 'string'
        ? await env.lookupJwt(token)
        : undefined;
    ctx.status = 200;
    ctx.body = facts ? (zitadelAnswer(env, client, facts) ?? INACTIVE) : INACTIVE;
  };
}

const INACTIVE = { active: false };

/** The answer for a live token, or undefined when ZITADEL would call it inactive. */
function zitadelAnswer(
  env: IntrospectionEnv,
  client: Client,
  facts: TokenFacts,
): Record<string, unknown> | undefined {
  const { directory } = env;
  const user = directory.userById(facts.userId);
  if (!user?.active) return undefined;
  const projectId = directory.projectId;
  const aud = facts.isPat ? unique([...facts.aud, client.clientId, projectId]) : unique(facts.aud);
  if (!aud.includes(client.clientId) && !aud.includes(projectId)) return undefined;
  const roles = projectRoles(user, facts.scope);
  const scope = facts.isPat
    ? [...PAT_BASE_SCOPE, ...Object.keys(user.roles).map((role) => ROLE_SCOPE_PREFIX + role)].join(
        ' ',
      )
    : facts.scope;
  const scopes = new Set(scope.split(' '));
  return {
    active: true,
    scope,
    ...(facts.isPat ? {} : { client_id: facts.clientId }),
    token_type: 'Bearer',
    exp: facts.exp,
    iat: facts.iat,
    nbf: facts.iat,
    sub: user.id,
    aud,
    iss: env.issuer,
    ...(facts.jti ? { jti: facts.jti } : {}),
    ...(scopes.has('profile')
      ? { username: user.name, preferred_username: user.name, name: user.name }
      : {}),
    ...(roles
      ? {
          'urn:zitadel:iam:org:project:roles': roles,
          [`urn:zitadel:iam:org:project:${projectId}:roles`]: roles,
        }
      : {}),
    ...(scopes.has(RESOURCE_OWNER_SCOPE) ? resourceOwnerClaims(user.orgId) : {}),
  };
}

/** The user's roles in the project, narrowed by `…:project:role:{key}` scopes when any was asked for. */
function projectRoles(user: ServiceUser, scope: string) {
  const asked = scope
    .split(' ')
    .filter((item) => item.startsWith(ROLE_SCOPE_PREFIX))
    .map((item) => item.slice(ROLE_SCOPE_PREFIX.length));
  const roles = Object.fromEntries(
    Object.entries(user.roles).filter(
      ([role, orgIds]) => orgIds.length > 0 && (asked.length === 0 || asked.includes(role)),
    ),
  );
  return Object.keys(roles).length > 0 ? roleClaim(roles) : undefined;
}

/** oidc-provider's active answer for an opaque token, read back into facts. */
function factsFromProvider(
  answer: Record<string, unknown>,
  directory: Directory,
): TokenFacts | undefined {
  const user =
    directory.userById(answer.sub as string) ??
    directory.userByClientId(answer.client_id as string);
  if (!user) return undefined;
  return {
    userId: user.id,
    scope: typeof answer.scope === 'string' ? answer.scope : '',
    aud: [answer.aud ?? []].flat() as string[],
    clientId: answer.client_id as string,
    exp: answer.exp as number,
    iat: answer.iat as number,
    jti: typeof answer.jti === 'string' ? answer.jti : undefined,
    isPat: user.auth === 'pat' && user.pat?.value !== undefined,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
