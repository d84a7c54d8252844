/**
 * What `zitadelAuth()` remembers about a request for the guards that run
 * after it: the realm of its challenges and where the token came from. Kept
 * under a symbol key, as Node keeps its own request internals, so it never
 * shows up in `Object.keys(req)` or `JSON.stringify`, and holds no secret.
 * Not a WeakMap: an entry per request costs ~10x as much, and more GC work.
 * A granted request carries its state inside `req.auth` instead (see
 * {@link grantRequest}): one property added to `req` on the hot path, not two.
 */
import type { Request } from 'express';
import type { DecisionTiming } from '../telemetry/decision';
import { requestStateOf } from '../token-info';
import type { TokenOrigin } from './bearer';

/**
 * Per-request state of the middleware; the decision events' start time and
 * grant source ({@link DecisionTiming}) are set only while someone listens.
 */
export interface RequestAuthState extends DecisionTiming {
  /** Realm of the `zitadelAuth()` that ran on the request. */
  realm: string;
  /** Where the token came from; absent on anonymous requests. */
  tokenLocation?: TokenOrigin;
}

/** Realm of challenges when no `zitadelAuth()` ran on a request. */
export const DEFAULT_REALM = 'api';

const STATE: unique symbol = Symbol('zitadelAuthState');

type WithState = Request & { [STATE]?: RequestAuthState };

/**
 * Records the state of a request (the last `zitadelAuth()` to run wins).
 *
 * @example
 * ```ts
 * setRequestState(req, { realm: 'billing', tokenLocation: 'header' });
 * ```
 */
export function setRequestState(req: Request, state: RequestAuthState): void {
  (req as WithState)[STATE] = state;
}

/**
 * Grants a request: `req.auth` is the view, which holds the state itself. A
 * state an earlier `zitadelAuth()` left on `req` is cleared so this one wins.
 *
 * @example
 * ```ts
 * grantRequest(req, withToken(info, token, state));
 * ```
 */
export function grantRequest(req: Request, auth: NonNullable<Request['auth']>): void {
  if ((req as WithState)[STATE] !== undefined) (req as WithState)[STATE] = undefined;
  req.auth = auth;
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
  return (req as WithState)[STATE] ?? (requestStateOf(req.auth) as RequestAuthState | undefined);
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
  return getRequestState(req)?.realm ?? DEFAULT_REALM;
}
