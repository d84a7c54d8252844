/**
 * Maps an RFC 7662 introspection answer, as ZITADEL writes it, to the
 * {@link AuthInfo} that lands on `req.auth`. Odd claim shapes (roles as an
 * array, a scope array, `aud` as a string) never throw: a claim that does not
 * have the expected shape is treated as absent.
 */

/** An introspection answer: a JSON object (RFC 7662 §2.2). */
export type IntrospectionClaims = Record<string, unknown>;

/** Roles as ZITADEL sends them: role → orgId → org primary domain. */
export type ProjectRoles = Record<string, Record<string, string>>;

/**
 * What the middleware knows about the caller of a request.
 *
 * @example
 * ```ts
 * app.get('/me', (req, res) => res.json({ subject: req.auth?.subject, roles: req.auth?.roles }));
 * ```
 */
export interface AuthInfo {
  /** The raw bearer token; a getter, no own property, so `res.json(req.auth)` and logs omit it. */
  readonly token: string;
  /** `sub`, else `client_id`, else `''`. */
  subject: string;
  clientId?: string;
  /** `username`, else `preferred_username`. */
  username?: string;
  scopes: string[];
  roles: ProjectRoles;
  /** `urn:zitadel:iam:user:resourceowner:id`. */
  orgId?: string;
  audience: string[];
  expiresAt?: Date;
  /** The whole introspection answer (a locally verified JWT: its payload). */
  claims: IntrospectionClaims;
  /** `'jwt'`: verified locally (`jwt: { verify: 'local' }`); `'introspection'`: ZITADEL's answer. */
  source: 'jwt' | 'introspection';
  /** True when the caller has `role`, in `orgId` if given, else in any org. */
  hasRole(role: string, orgId?: string): boolean;
  /** `true` when the token carries `scope`. */
  hasScope(scope: string): boolean;
}

/** Where roles are read from. */
export interface TokenInfoOptions {
  /** Read `urn:zitadel:iam:org:project:{projectId}:roles` instead of the generic claim. */
  projectId?: string;
  /** Where the claims come from; default `'introspection'`. */
  source?: 'jwt' | 'introspection';
}

const GENERIC_ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const RESOURCE_OWNER_ID_CLAIM = 'urn:zitadel:iam:user:resourceowner:id';

/**
 * Builds the {@link AuthInfo} for an active answer. The token is attached
 * later, per request, with {@link withToken}, so cached values never hold it.
 *
 * @example
 * ```ts
 * const info = toAuthInfo({ active: true, sub: 'svc-1', scope: 'openid' }, {});
 * info.hasScope('openid'); // true
 * ```
 */
export function toAuthInfo(claims: IntrospectionClaims, options: TokenInfoOptions = {}): AuthInfo {
  const info = Object.create(authInfoMethods) as AuthInfo;
  info.subject = stringClaim(claims.sub) ?? stringClaim(claims.client_id) ?? '';
  assignIfDefined(info, 'clientId', stringClaim(claims.client_id));
  assignIfDefined(
    info,
    'username',
    stringClaim(claims.username) ?? stringClaim(claims.preferred_username),
  );
  info.scopes = scopesOf(claims.scope);
  info.roles = rolesOf(claims[rolesClaimName(options.projectId)]);
  assignIfDefined(info, 'orgId', stringClaim(claims[RESOURCE_OWNER_ID_CLAIM]));
  info.audience = audienceOf(claims.aud);
  const exp = numberClaim(claims.exp);
  // Beyond ±8.64e15 ms a Date is invalid; such an exp is no expiry date at all.
  if (exp !== undefined && Math.abs(exp) <= 8.64e12) info.expiresAt = new Date(exp * 1000);
  info.claims = claims;
  info.source = options.source ?? 'introspection';
  return info;
}

/**
 * A per-request view of a cached {@link AuthInfo} with the raw token behind
 * a getter (no own property). The cached object itself is never mutated.
 * `requestState` (the middleware's per-request record) rides along in a
 * private field too, so a granted request needs no second property on `req`.
 *
 * @example
 * ```ts
 * req.auth = withToken(cachedInfo, token);
 * JSON.stringify(req.auth); // no token in it
 * ```
 */
export function withToken(info: AuthInfo, token: string, requestState?: object): AuthInfo {
  return new AuthInfoView(info, token, requestState) as unknown as AuthInfo;
}

/**
 * The `requestState` a {@link withToken} view was made with; `undefined` for
 * anything else (a plain object a test put on `req.auth`, or nothing).
 *
 * @example
 * ```ts
 * requestStateOf(withToken(info, token, state)) === state; // true
 * ```
 */
export function requestStateOf(auth: unknown): object | undefined {
  return AuthInfoView.requestStateOf(auth);
}

/** The claim that holds the roles for a project, or the generic one. */
export function rolesClaimName(projectId?: string): string {
  return projectId ? `urn:zitadel:iam:org:project:${projectId}:roles` : GENERIC_ROLES_CLAIM;
}

/** The `aud` claim as an array of strings; anything else is no audience. */
export function audienceOf(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((value): value is string => typeof value === 'string');
  return [];
}

const authInfoMethods = {
  hasRole(this: AuthInfo, role: string, orgId?: string): boolean {
    if (!Object.prototype.hasOwnProperty.call(this.roles, role)) return false;
    const orgs = this.roles[role];
    if (orgId === undefined) return Object.keys(orgs).length > 0;
    return Object.prototype.hasOwnProperty.call(orgs, orgId);
  },
  hasScope(this: AuthInfo, scope: string): boolean {
    return this.scopes.includes(scope);
  },
};

/**
 * What `req.auth` is on every request: the cached fields copied, the token in
 * a private field behind a getter, so no own property holds it (JSON, spread,
 * `util.inspect`). Runs on every cache hit, where this costs a fifth of
 * `Object.defineProperty`.
 */
class AuthInfoView {
  readonly #token: string;
  readonly #requestState: object | undefined;

  constructor(info: AuthInfo, token: string, requestState: object | undefined) {
    Object.assign(this, info);
    this.#token = token;
    this.#requestState = requestState;
  }

  get token(): string {
    return this.#token;
  }

  static requestStateOf(auth: unknown): object | undefined {
    return typeof auth === 'object' && auth !== null && #requestState in auth
      ? (auth as AuthInfoView).#requestState
      : undefined;
  }
}
Object.setPrototypeOf(AuthInfoView.prototype, authInfoMethods);

function scopesOf(scope: unknown): string[] {
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  if (Array.isArray(scope)) {
    // Same result as the space-joined string form: no empty or multi-word entries.
    return scope.flatMap((value) => (typeof value === 'string' ? scopesOf(value) : []));
  }
  return [];
}

/**
 * Keeps only `{ role: { orgId: domain } }` entries of the expected shape, in a
 * prototype-free object so a role named `__proto__` or `constructor` cannot
 * reach Object.prototype.
 */
function rolesOf(claim: unknown): ProjectRoles {
  const roles: ProjectRoles = nullPrototype();
  if (!isPlainObject(claim)) return roles;
  for (const [role, orgs] of Object.entries(claim)) {
    if (!isPlainObject(orgs)) continue;
    const byOrg: Record<string, string> = nullPrototype();
    for (const [orgId, domain] of Object.entries(orgs)) {
      byOrg[orgId] = typeof domain === 'string' ? domain : '';
    }
    roles[role] = byOrg;
  }
  return roles;
}

/**
 * `{}` without a prototype, in V8's fast mode: `Object.create(null)` gives a
 * dictionary-mode object instead, ~130 bytes more each — and a cached answer
 * holds one per role plus one for the roles.
 */
function nullPrototype<T>(): Record<string, T> {
  return Object.setPrototypeOf({}, null) as Record<string, T>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberClaim(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function assignIfDefined<K extends keyof AuthInfo>(
  target: AuthInfo,
  key: K,
  value: AuthInfo[K] | undefined,
) {
  if (value !== undefined) (target as unknown as Record<string, unknown>)[key] = value;
}
