/**
 * What `zitadelAuth()` remembers about a request for the guards that run
 * after it: the realm of its challenges and where the token came from. Kept
 * under a symbol key, as Node keeps its own request internals, so it never
 * shows up in `Object.keys(req)` or `JSON.stringify`, and holds no secret.
 * Not a WeakMap: an entry per request costs ~10x as much, and more GC work.
 * A granted request carries its state inside `req.auth` instead (see
 * {@link grantRequest}): one property added to `req` on the hot path, not two.
 *
 * Why a memory hit touches `req` only twice (reads the header, sets
 * `req.auth`): Express re-prototypes every request
 * (`Object.setPrototypeOf(req, app.request)`) and then adds properties, so
 * V8 gives each request its own hidden class. Every named access on `req`
 * then misses its inline cache — ~1.5 µs for a missing-key read, ~4 µs for
 * a property added, on the bench machine (`bench/req-access.ts`) — where the
 * same access on a plain object costs nanoseconds. So which of two states is
 * newer is told by their `order`, not by reading `req` again.
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
  /** When two `zitadelAuth()` ran on a request, the later one's is higher ({@link nextRunOrder}). */
  order: number;
}

/** Realm of challenges when no `zitadelAuth()` ran on a request. */
export const DEFAULT_REALM = 'api';

const STATE: unique symbol = Symbol('zitadelAuthState');

type WithState = Request & { [STATE]?: RequestAuthState };

let runs = 0;

/**
 * A number higher than any earlier one: each `zitadelAuth()` run takes one
 * for its state, so the later of two states on a request is the higher.
 *
 * @example
 * ```ts
 * const state = { realm: 'api', order: nextRunOrder() };
 * ```
 */
export function nextRunOrder(): number {
  return ++runs;
}

/**
 * Records the state of a request (the last `zitadelAuth()` to run wins).
 *
 * @example
 * ```ts
 * setRequestState(req, { realm: 'billing', tokenLocation: 'header', order: nextRunOrder() });
 * ```
 */
export function setRequestState(req: Request, state: RequestAuthState): void {
  (req as WithState)[STATE] = state;
}

/**
 * Grants a request: `req.auth` is the view, which holds the state itself. A
 * state an earlier `zitadelAuth()` left on `req` stays, and loses to this
 * one by its lower `order` (clearing it would cost a read of `req`).
 *
 * @example
 * ```ts
 * grantRequest(req, withToken(info, token, state));
 * ```
 */
export function grantRequest(req: Request, auth: NonNullable<Request['auth']>): void {
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
  const recorded = (req as WithState)[STATE];
  const granted = requestStateOf(req.auth) as RequestAuthState | undefined;
  if (recorded === undefined || granted === undefined) return recorded ?? granted;
  return granted.order > recorded.order ? granted : recorded;
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
