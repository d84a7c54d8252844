/**
 * Declares `req.auth` on Express's `Request`. The package index imports this
 * file, so `import { zitadelAuth } from 'express-zitadel-introspection'` is
 * enough for `req.auth` to type-check in the user's handlers.
 */
import type { AuthInfo } from '../token-info';

declare global {
  // Express's own typings are declared through this global namespace.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The caller, set by `zitadelAuth()` when the token is active;
       * `undefined` on anonymous requests (`authRequired: false`).
       *
       * @example
       * ```ts
       * app.get('/me', zitadelAuth(options), (req, res) => res.json({ subject: req.auth?.subject }));
       * ```
       */
      auth?: AuthInfo;
    }
  }
}

export {};
