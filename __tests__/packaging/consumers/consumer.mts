// An ES module consumer of the built package, type-checked against dist/*.d.ts.
import express from 'express';
import {
  zitadelAuth,
  requireAnyRole,
  requireScope,
  requireClaim,
  authErrorHandler,
  createIntrospector,
  RedisStore,
  serviceUserTokenSource,
  loadKeyFile,
  ConfigError,
  type AuthInfo,
} from 'express-zitadel-introspection';
import { startLocalZitadel } from 'express-zitadel-introspection/testing';

const app = express();
app.use(zitadelAuth({ issuer: 'https://acme.zitadel.cloud', clientId: 'api', clientSecret: 's' }));
app.get('/a', requireAnyRole(['admin', 'owner']), requireScope('email'), (req, res) => {
  const info: AuthInfo | undefined = req.auth;
  res.json(info?.scopes);
});
app.get(
  '/b',
  requireClaim((a) => a.subject === 'svc-1', 'only svc-1'),
  (_req, res) => res.end(),
);
app.use(authErrorHandler());
const kinds = [
  createIntrospector,
  RedisStore,
  serviceUserTokenSource,
  loadKeyFile,
  startLocalZitadel,
];
console.log(kinds.map((k) => typeof k).join(','), new ConfigError('x').status);
