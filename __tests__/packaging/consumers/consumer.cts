// A CommonJS consumer of the built package, type-checked against dist/*.d.ts.
import express = require('express');
import pkg = require('express-zitadel-introspection');
import testing = require('express-zitadel-introspection/testing');

const app = express();
const auth: pkg.ZitadelAuthMiddleware = pkg.zitadelAuth({
  issuer: 'https://acme.zitadel.cloud',
  clientId: 'api',
  clientSecret: 'secret',
});
app.use(auth);
app.get('/r', pkg.requireRole('reader'), (req, res) => {
  const subject: string | undefined = req.auth?.subject;
  const has: boolean | undefined = req.auth?.hasRole('reader', 'org');
  res.json({ subject, has });
});
app.use(pkg.authErrorHandler());
const start: typeof testing.startLocalZitadel = testing.startLocalZitadel;
const error: pkg.AuthError = new pkg.InvalidTokenError('x');
console.log(typeof start, error.status, typeof auth.introspector.stats);
