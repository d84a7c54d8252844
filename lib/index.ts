/**
 * express-zitadel-introspection — protect Express routes with ZITADEL access
 * tokens through OAuth 2.0 token introspection (RFC 7662).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { zitadelAuth, requireRole, authErrorHandler } from 'express-zitadel-introspection';
 *
 * const app = express();
 * app.use('/api', zitadelAuth({ issuer: 'https://acme.zitadel.cloud', key: './api-key.json' }));
 * app.get('/api/reports', requireRole('reader'), (req, res) => res.json({ caller: req.auth?.subject }));
 * app.use(authErrorHandler());
 * ```
 *
 * @packageDocumentation
 */
import './express/augment';

// Types that public signatures use, exported so users can name them.
export type { TokenLocation } from './express/bearer';
export type { RoleGuardOptions, ClaimCheck } from './express/guards';
export type { RedisStoreOptions } from './cache/redis-store';
export type { IntrospectionClaims } from './token-info';

export { zitadelAuth } from './express/middleware';
export type { ZitadelAuthOptions, ZitadelAuthMiddleware } from './express/middleware';
export { requireRole, requireAnyRole, requireScope, requireClaim } from './express/guards';
export { authErrorHandler } from './express/error-handler';
export { zitadelEvents } from './express/events-webhook';
export type { ZitadelEventsOptions, ZitadelEventsHandler } from './express/events-webhook';
export type { EventStats, EventMessage } from './events/event-receiver';
export type { EventOutcome, UnmappedGrantPolicy } from './events/event-actions';
export type { JwtOptions } from './jwt/jwt-options';
export type { LocalDecision } from './jwt/local-verification';
export { createIntrospector } from './introspector';
export type { Introspector, IntrospectorStats, TokenInfo } from './introspector';
export type { IntrospectorHealth } from './telemetry/health';
export type {
  CircuitEvent,
  DecisionEvent,
  DecisionSource,
  HttpCallContext,
  HttpCallResult,
  ReasonCode,
} from './telemetry/channels';
export type { IntrospectorOptions, CacheOptions } from './options';
export type { CacheStore } from './cache/result-cache';
export { RedisStore } from './cache/redis-store';
export { serviceUserTokenSource } from './zitadel/service-user';
export type { ServiceUserTokenSourceOptions, TokenSource } from './zitadel/service-user';
export { loadKeyFile } from './zitadel/key-file';
export type { ApplicationKey, ServiceAccountKey, ZitadelKey, KeySource } from './zitadel/key-file';
export type { AuthInfo, ProjectRoles } from './token-info';
export type { Logger } from './logger';
export {
  AuthError,
  InvalidRequestError,
  UnauthorizedError,
  InvalidTokenError,
  InsufficientScopeError,
  IntrospectionUnavailableError,
  ConfigError,
  TokenRequestError,
} from './errors';
export type { AuthErrorOptions } from './errors';
