/**
 * `zitadelAuth()`: the middleware that turns a bearer token into `req.auth`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError, InvalidTokenError, UnauthorizedError } from '../errors';
import { rateLimitedLog, silentLogger } from '../logger';
import {
  createIntrospector,
  INTROSPECT_NOW_IF_CACHED,
  type Introspector,
  type IntrospectorOptions,
  type TokenInfo,
} from '../introspector';
import { withToken } from '../token-info';
import { decisionChannel, type ReasonCode } from '../telemetry/channels';
import {
  decisionStart,
  publishAnonymous,
  publishGrant,
  publishRefusal,
  sourceOf,
} from '../telemetry/decision';
import { withReasonWord } from '../telemetry/log-reason';
import { extractToken, type ExtractedToken, type TokenLocation } from './bearer';
import {
  DEFAULT_REALM,
  grantRequest,
  nextRunOrder,
  setRequestState,
  type RequestAuthState,
} from './request-state';
import './augment';

/** Options of {@link zitadelAuth}: the core's options plus how to treat requests. */
export interface ZitadelAuthOptions extends IntrospectorOptions {
  /** `false`: a request without credentials passes with `req.auth` undefined (default `true`). */
  authRequired?: boolean;
  /** Where to look for the token (default `['header']`); `body` needs a body parser first. */
  tokenLocations?: TokenLocation[];
  /** Replaces `tokenLocations`; `undefined` means no credentials. The token must still be a b64token. */
  getToken?: (req: Request) => string | undefined;
  /** Realm of the `WWW-Authenticate` challenges (default `api`). */
  realm?: string;
}

/** The middleware, with the {@link Introspector} it uses (for `evict`, `stats`, `close`). */
export type ZitadelAuthMiddleware = RequestHandler & { introspector: Introspector };

const LOCATIONS: readonly TokenLocation[] = ['header', 'body', 'query'];

const INACTIVE_DESCRIPTIONS: Record<Extract<TokenInfo, { active: false }>['reason'], string> = {
  inactive: 'the access token is not active',
  expired: 'the access token has expired',
  audience: 'the access token is not meant for this API',
  invalid: 'the access token failed local verification',
};

/**
 * Protects the routes after it: takes the bearer token off the request,
 * introspects it at ZITADEL (cached) and sets `req.auth`. Every refusal goes
 * to `next(err)` as an {@link AuthError} — 400, 401, 500 or 503 — on
 * Express 4 and 5 alike. Bad options throw {@link ConfigError} at once;
 * discovery and the key file are loaded in the background right away, and
 * their failures surface on requests.
 *
 * @example
 * ```ts
 * const auth = zitadelAuth({ issuer: 'https://acme.zitadel.cloud', key: './api-key.json' });
 * app.use('/api', auth);
 * app.get('/api/reports', requireRole('reader'), (req, res) => res.json({ caller: req.auth!.subject }));
 * app.use(authErrorHandler());
 * ```
 */
export function zitadelAuth(options: ZitadelAuthOptions): ZitadelAuthMiddleware {
  const {
    authRequired = true,
    tokenLocations = ['header'],
    getToken,
    realm = DEFAULT_REALM,
    ...introspectorOptions
  } = checkOptions(options);
  const introspector = createIntrospector(introspectorOptions);
  // Start discovery and the key load now; a failure shows on the requests.
  introspector.ready().catch(() => {});
  const extractOptions = { tokenLocations: [...tokenLocations], getToken, realm };
  // A set-up fault seen per request (e.g. no body parser): the client gets a
  // bare 500, so the operator needs the reason — once a minute is enough.
  const logSetupFault = rateLimitedLog(introspectorOptions.logger ?? silentLogger, 'error');

  function zitadelAuthMiddleware(req: Request, res: Response, next: NextFunction): void {
    // The clock is read only while someone listens to the decision events.
    // Every field in the literal: one allocation, no shape change later.
    const state: RequestAuthState = {
      realm,
      startedAt: decisionStart(),
      tokenLocation: undefined,
      source: undefined,
      order: nextRunOrder(),
    };
    let found: ExtractedToken | undefined;
    try {
      found = extractToken(req, extractOptions);
    } catch (error) {
      setRequestState(req, state);
      // Another scheme is no credentials (RFC 6750 §3.1): anonymous when allowed.
      if (!authRequired && error instanceof UnauthorizedError) return passAnonymous(state, next);
      if (error instanceof ConfigError) {
        logSetupFault(withReasonWord(`zitadelAuth: ${error.message}`, error));
      }
      return refuse(state, next, error);
    }
    if (found === undefined) {
      setRequestState(req, state);
      return authRequired
        ? refuse(state, next, new UnauthorizedError(undefined, { realm }))
        : passAnonymous(state, next);
    }
    state.tokenLocation = found.location;
    // RFC 6750 §2.3: a URI that holds a token must not land in shared caches.
    if (found.location === 'query') res.setHeader('Cache-Control', 'private');

    const { token } = found;
    // A warm token is answered synchronously: no promise and no closure on the
    // hot path. (A synchronous throw would reach next() through Express's own layer.)
    const outcome = introspector[INTROSPECT_NOW_IF_CACHED](token);
    if (!(outcome instanceof Promise)) {
      if (decisionChannel.hasSubscribers) state.source = 'memory';
      if (!outcome.active) {
        setRequestState(req, state);
        return refuseInactive(state, next, outcome);
      }
      // The view holds the token and the state: one property added to req, not two.
      grantRequest(req, withToken(outcome.auth, token, state));
      if (decisionChannel.hasSubscribers) publishGrant(state, outcome.auth.subject);
      return next();
    }
    setRequestState(req, state);
    outcome.then(
      (info) => {
        if (decisionChannel.hasSubscribers) state.source = sourceOf(info);
        if (!info.active) return refuseInactive(state, next, info);
        req.auth = info.auth;
        if (decisionChannel.hasSubscribers) publishGrant(state, info.auth.subject);
        next();
      },
      (error: unknown) => refuse(state, next, error),
    );
  }

  /** An inactive answer (or a failed local check) as 401 `invalid_token`. */
  function refuseInactive(
    state: RequestAuthState,
    next: NextFunction,
    info: Extract<TokenInfo, { active: false }>,
  ): void {
    // An unknown reason leaves the description undefined: the error's default applies.
    const description = 'description' in info ? info.description : undefined;
    const error = new InvalidTokenError(description ?? INACTIVE_DESCRIPTIONS[info.reason], {
      realm,
    });
    refuse(state, next, error, info.reason === 'invalid' ? 'jwt_invalid' : info.reason);
  }

  return Object.assign(zitadelAuthMiddleware, { introspector });
}

/** Passes a request without credentials (`authRequired: false`), as an `anonymous` decision. */
function passAnonymous(state: RequestAuthState, next: NextFunction): void {
  if (decisionChannel.hasSubscribers) publishAnonymous(state);
  next();
}

/** Refuses at the `authenticate` stage: one decision event, then `next(error)`. */
function refuse(
  state: RequestAuthState,
  next: NextFunction,
  error: unknown,
  reason?: ReasonCode,
): void {
  if (decisionChannel.hasSubscribers) publishRefusal('authenticate', state, error, reason);
  next(error);
}

/** Checks the Express-side options; the core checks its own. */
function checkOptions(options: ZitadelAuthOptions): ZitadelAuthOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('zitadelAuth() needs an options object', { field: 'options' });
  }
  const { tokenLocations, getToken, realm, authRequired } = options;
  if (
    tokenLocations !== undefined &&
    (!Array.isArray(tokenLocations) ||
      tokenLocations.length === 0 ||
      !tokenLocations.every((location) => LOCATIONS.includes(location)))
  ) {
    throw new ConfigError(`tokenLocations must be a non-empty list of ${LOCATIONS.join(', ')}`, {
      field: 'tokenLocations',
    });
  }
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw new ConfigError('getToken must be a function', { field: 'getToken' });
  }
  if (realm !== undefined && (typeof realm !== 'string' || realm === '')) {
    throw new ConfigError('realm must be a non-empty string', { field: 'realm' });
  }
  if (authRequired !== undefined && typeof authRequired !== 'boolean') {
    throw new ConfigError('authRequired must be a boolean', { field: 'authRequired' });
  }
  return options;
}
