/**
 * The example API: an Express 5 app whose routes are protected by ZITADEL
 * access tokens, one guard of each kind. Copy it as a template.
 *
 * Run it against your ZITADEL (an API application with a private key JWT,
 * "Key" in the console, downloaded as JSON):
 *
 *   ZITADEL_ISSUER=https://acme.zitadel.cloud \
 *   ZITADEL_KEY_FILE=./api-key.json \
 *   ZITADEL_PROJECT_ID=301255683459087361 \
 *   PORT=3000 npx tsx examples/api.ts
 *
 * Without a ZITADEL at hand, `npm start` runs it against a local one.
 */
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import {
  authErrorHandler,
  requireAnyRole,
  requireRole,
  requireScope,
  type Logger,
  type ZitadelAuthMiddleware,
} from '../lib';
import {
  listen,
  missingEnv,
  runFromCommandLine,
  startAuth,
  type Listening,
  type Output,
} from './shared';

/**
 * What the example API is built from.
 *
 * @example
 * ```ts
 * const app = createApi({ auth: zitadelAuth({ issuer, key: './api-key.json', projectId }) });
 * ```
 */
export interface ApiOptions {
  /**
   * The middleware from `zitadelAuth()`. It is made by the caller, who
   * keeps it for `auth.introspector.stats()` and `close()`.
   */
  auth: ZitadelAuthMiddleware;
  /** Where unexpected errors are logged (default `console`). */
  out?: Output;
}

/**
 * Builds the example API. Everything under `/api` needs an active token;
 * each route adds its own guard:
 *
 * | route | needs |
 * |---|---|
 * | `GET /api/me` | any active token; answers `req.auth` (the token is not in it) |
 * | `GET /api/reports` | role `reader` (in any organization) |
 * | `POST /api/admin` | role `admin` or `owner` |
 * | `GET /api/orgs/:orgId/invoices` | role `billing-admin` granted by organization `:orgId` |
 * | `GET /api/profile` | scope `profile` in the token |
 *
 * Refusals are answered by `authErrorHandler()` as RFC 6750 JSON
 * (`{ "error", "error_description" }`, with `WWW-Authenticate`).
 *
 * @example
 * ```ts
 * const auth = zitadelAuth({ issuer: 'https://acme.zitadel.cloud', key: './api-key.json' });
 * createApi({ auth }).listen(3000);
 * ```
 */
export function createApi({ auth, out = console }: ApiOptions): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use('/api', auth);

  // JSON drops functions and the non-enumerable raw token: this shows the caller, never the token.
  app.get('/api/me', (req, res) => {
    res.json(req.auth);
  });

  app.get('/api/reports', requireRole('reader'), (req, res) => {
    res.json({
      reports: ['q1-revenue', 'q2-revenue'],
      readBy: req.auth?.username ?? req.auth?.subject,
    });
  });

  app.post('/api/admin', requireAnyRole(['admin', 'owner']), (req, res) => {
    res.json({ done: 'cache flushed', by: req.auth?.username ?? req.auth?.subject });
  });

  app.get(
    '/api/orgs/:orgId/invoices',
    requireRole('billing-admin', { orgId: orgIdParam }),
    (req, res) => {
      res.json({ orgId: req.params.orgId, invoices: [{ id: 'inv-1', amount: 420 }] });
    },
  );

  app.get('/api/profile', requireScope('profile'), (req, res) => {
    res.json({ username: req.auth?.username, orgId: req.auth?.orgId });
  });

  app.use(authErrorHandler());
  app.use(fallbackErrorHandler(out));
  return app;
}

/**
 * Runs the example API against a real ZITADEL, configured from `env`:
 * `ZITADEL_ISSUER` and `ZITADEL_KEY_FILE` (the API app's key file) are
 * required, `ZITADEL_PROJECT_ID` (read roles of this project) and `PORT`
 * (default 3000) optional. Checks the configuration before listening.
 * Resolves to the running server, or to `undefined` after printing what is
 * missing or wrong.
 *
 * @example
 * ```ts
 * const running = await main({ ZITADEL_ISSUER: issuer, ZITADEL_KEY_FILE: './api-key.json', PORT: '0' });
 * await running?.close();
 * ```
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: Output = console,
): Promise<Listening | undefined> {
  const missing = missingEnv(env, ['ZITADEL_ISSUER', 'ZITADEL_KEY_FILE']);
  if (missing.length > 0) {
    out.error(USAGE.replace('{missing}', missing.join(', ')));
    return undefined;
  }
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    out.error(`PORT must be a port number, not ${env.PORT}`);
    return undefined;
  }
  const auth = await startAuth(env, out, withoutDebug(out));
  if (!auth) return undefined;
  let api: Listening;
  try {
    api = await listen(createApi({ auth, out }), port, env.HOST);
  } catch (error) {
    out.error(`cannot listen on port ${port}: ${(error as Error).message}`);
    await auth.introspector.close();
    return undefined;
  }
  out.log(`example API on ${api.url} (issuer ${env.ZITADEL_ISSUER}); try GET ${api.url}/api/me`);
  return {
    ...api,
    close: async () => {
      await api.close();
      await auth.introspector.close();
    },
  };
}

const USAGE = `The example API needs a ZITADEL. Missing: {missing}.

  ZITADEL_ISSUER      your instance, e.g. https://acme.zitadel.cloud
  ZITADEL_KEY_FILE    key file of an API application (authentication "Private Key JWT")
  ZITADEL_PROJECT_ID  optional: read the roles of this project
  PORT                optional, default 3000
  HOST                optional, default 127.0.0.1 (0.0.0.0 to listen on every interface)

Or run \`npm start\`: the demo runs this API against a local ZITADEL.`;

/**
 * The error handler after `authErrorHandler()`: anything that is not an
 * auth error, as JSON without the stack. Client errors raised by Express
 * itself (a malformed `%` escape in a path parameter is a 400) keep their
 * status; everything else is a 500, logged to `out`.
 *
 * @example
 * ```ts
 * app.use(authErrorHandler());
 * app.use(fallbackErrorHandler());
 * ```
 */
export function fallbackErrorHandler(out: Output = console): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = Number((error as { status?: unknown } | undefined)?.status);
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: 'invalid_request', error_description: 'malformed request' });
      return;
    }
    out.error('unhandled error:', error);
    res.status(500).json({ error: 'server_error', error_description: 'internal error' });
  };
}

/**
 * The `:orgId` path parameter. Express 5's types allow `string[]` for
 * parameters (wildcards), so a plain `req.params.orgId` does not type-check
 * as an organization id.
 */
function orgIdParam(req: Request): string | undefined {
  const { orgId } = req.params;
  return typeof orgId === 'string' ? orgId : undefined;
}

/** The package's debug lines (cache decisions) are noise in a terminal. */
function withoutDebug(out: Output): Logger {
  return { debug: () => {}, info: out.log, warn: out.error, error: out.error };
}

if (require.main === module) runFromCommandLine(() => main());
