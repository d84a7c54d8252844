/**
 * What `zitadelAuth()` remembers about a request for the guards that run
 * after it: the realm of its challenges and where the token came from. Kept
 * in a WeakMap, off the request object, so it never shows up in
 * `Object.keys(req)`, in logs, or to other middleware, and is collected with
 * the request.
 */
import type { Request } from 'express';
import type { TokenOrigin } from './bearer';

/** Per-request state of the middleware. */
export interface RequestAuthState {
  /** Realm of the `zitadelAuth()` that ran on the request. */
  realm: string;
  /** Where the token came from; absent on anonymous requests. */
  tokenLocation?: TokenOrigin;
}

/** Realm of challenges when no `zitadelAuth()` ran on a request. */
export const DEFAULT_REALM = 'api';

const states = new WeakMap<Request, RequestAuthState>();

/**
 * Records the state of a request (the last `zitadelAuth()` to run wins).
 *
 * @example
 * ```ts
 * setRequestState(req, { realm: 'billing', tokenLocation: 'header' });
 * ```
 */
export function setRequestState(req: Request, state: RequestAuthState): void {
  states.set(req, state);
}

/**
 * The state recorded for a request, if a `zitadelAuth()` ran on it.
 *
 * @example
 * ```ts
 * getRequestState(req)?.tokenLocation; // 'query'
 * ```
 */
export function getRequestState(req: Request): RequestAuthState | undefined {
  return states.get(req);
}

/**
 * The realm for a challenge on this request: the one of the `zitadelAuth()`
 * that ran on it, else {@link DEFAULT_REALM}.
 *
 * @example
 * ```ts
 * next(new UnauthorizedError(undefined, { realm: realmOf(req) }));
 * ```
 */
export function realmOf(req: Request): string {
  return states.get(req)?.realm ?? DEFAULT_REALM;
}
