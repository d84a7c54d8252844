/**
 * Per-route guards that run after `zitadelAuth()` and decide on `req.auth`:
 * 401 when there is no caller, 403 `insufficient_scope` when the caller lacks
 * what the route needs.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError, InsufficientScopeError, UnauthorizedError } from '../errors';
import type { AuthInfo } from '../token-info';
import { decisionChannel, type ReasonCode } from '../telemetry/channels';
import { publishRefusal } from '../telemetry/decision';
import { getRequestState, realmOf } from './request-state';
import './augment';

/** Options of {@link requireRole} and {@link requireAnyRole}. */
export interface RoleGuardOptions {
  /**
   * The organization the roles must be held in. Express 5 types route
   * params as `string | string[]`, so an array is accepted by the type and
   * denied at run time, like `undefined` or an empty string.
   */
  orgId?: (req: Request) => string | string[] | undefined;
}

/** A check of {@link requireClaim}; only `true` (or a promise of it) lets the request pass. */
export type ClaimCheck = (auth: AuthInfo, req: Request) => boolean | Promise<boolean>;

/**
 * Passes when the caller has every one of `roles` (in the organization
 * `options.orgId` returns, else in any organization).
 *
 * @example
 * ```ts
 * app.get('/api/reports', requireRole('reader'), handler);
 * app.get('/api/org/:orgId/x', requireRole('admin', { orgId: (req) => req.params.orgId }), handler);
 * ```
 */
export function requireRole(
  roles: string | string[],
  options: RoleGuardOptions = {},
): RequestHandler {
  return roleGuard('requireRole', roles, options, 'all');
}

/**
 * Passes when the caller has at least one of `roles` (in the organization
 * `options.orgId` returns, else in any organization).
 *
 * @example
 * ```ts
 * app.post('/api/admin', requireAnyRole(['admin', 'owner']), handler);
 * ```
 */
export function requireAnyRole(
  roles: string | string[],
  options: RoleGuardOptions = {},
): RequestHandler {
  return roleGuard('requireAnyRole', roles, options, 'any');
}

/**
 * Passes when the token carries every one of `scopes`; a 403 names them in
 * the challenge's `scope="…"` (RFC 6750 §3).
 *
 * @example
 * ```ts
 * app.get('/api/mail', requireScope(['openid', 'email']), handler);
 * ```
 */
export function requireScope(scopes: string | string[]): RequestHandler {
  const wanted = nonEmptyList('requireScope', 'scopes', scopes);
  return function scopeGuard(req: Request, _res: Response, next: NextFunction) {
    const auth = req.auth;
    if (!auth) return refuse(req, next, noCaller(req), 'no_token');
    const missing = wanted.filter((scope) => !auth.hasScope(scope));
    if (missing.length === 0) return next();
    const error = new InsufficientScopeError(`missing scope ${missing.join(' ')}`, {
      realm: realmOf(req),
      scope: wanted.join(' '),
    });
    refuse(req, next, error, 'missing_scope');
  };
}

/**
 * Passes when `check(req.auth, req)` returns (or resolves to) `true`; any
 * other value is a 403 with `description`. The check may be async; if it
 * throws or rejects, that error goes to `next(err)` unchanged.
 *
 * @example
 * ```ts
 * app.get('/api/own', requireClaim((auth) => auth.subject === 'svc-1', 'only svc-1'), handler);
 * ```
 */
export function requireClaim(
  check: ClaimCheck,
  description = 'the token does not satisfy the claim check of this route',
): RequestHandler {
  if (typeof check !== 'function') {
    throw new ConfigError('requireClaim() needs a check function', { field: 'check' });
  }
  return function claimGuard(req: Request, _res: Response, next: NextFunction) {
    const auth = req.auth;
    if (!auth) return refuse(req, next, noCaller(req), 'no_token');
    new Promise<boolean>((resolve) => resolve(check(auth, req))).then((allowed) => {
      if (allowed === true) return next();
      const error = new InsufficientScopeError(description, { realm: realmOf(req) });
      refuse(req, next, error, 'claim_check');
    }, next);
  };
}

function roleGuard(
  guard: string,
  roles: string | string[],
  options: RoleGuardOptions,
  mode: 'all' | 'any',
): RequestHandler {
  const wanted = nonEmptyList(guard, 'roles', roles);
  const { orgId: resolveOrgId } = options;
  if (resolveOrgId !== undefined && typeof resolveOrgId !== 'function') {
    throw new ConfigError(`${guard}(): orgId must be a function of the request`, {
      field: 'orgId',
    });
  }
  return function roleGuardMiddleware(req: Request, _res: Response, next: NextFunction) {
    const auth = req.auth;
    if (!auth) return refuse(req, next, noCaller(req), 'no_token');
    const realm = realmOf(req);
    let orgId: string | undefined;
    if (resolveOrgId) {
      let resolved: string | string[] | undefined;
      try {
        resolved = resolveOrgId(req);
      } catch (error) {
        return next(error);
      }
      if (typeof resolved !== 'string' || resolved === '') {
        const error = new InsufficientScopeError('no organization to check the roles in', {
          realm,
        });
        return refuse(req, next, error, 'missing_role');
      }
      orgId = resolved;
    }
    const missing = wanted.filter((role) => !auth.hasRole(role, orgId));
    const allowed = mode === 'all' ? missing.length === 0 : missing.length < wanted.length;
    if (allowed) return next();
    const where = orgId === undefined ? '' : ` in organization ${orgId}`;
    const what =
      mode === 'all'
        ? `missing role ${missing.join(', ')}`
        : `needs one of roles ${wanted.join(', ')}`;
    refuse(req, next, new InsufficientScopeError(`${what}${where}`, { realm }), 'missing_role');
  };
}

function nonEmptyList(guard: string, field: string, value: string | string[]): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item !== '')
  ) {
    throw new ConfigError(
      `${guard}() needs at least one ${field.slice(0, -1)}, as non-empty strings`,
      {
        field,
      },
    );
  }
  return [...list];
}

/** A guard's refusal: one `authorize` decision event, then `next(error)`. */
function refuse(req: Request, next: NextFunction, error: Error, reason: ReasonCode): void {
  if (decisionChannel.hasSubscribers) {
    publishRefusal('authorize', getRequestState(req), error, reason, req.auth?.subject);
  }
  next(error);
}

function noCaller(req: Request): UnauthorizedError {
  return new UnauthorizedError(undefined, { realm: realmOf(req) });
}
