/**
 * Small helpers the examples share: the scopes a ZITADEL service user asks
 * for, environment checks, starting the auth middleware and an Express app
 * on a port, and running an example's `main()` from the command line.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import {
  zitadelAuth,
  type IntrospectorStats,
  type Logger,
  type ZitadelAuthMiddleware,
} from '../lib';

/**
 * Where an example prints: `console` when run directly, a collector in tests.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const out: Output = { log: (line) => lines.push(line), error: (line) => lines.push(line) };
 * ```
 */
export type Output = Pick<Console, 'log' | 'error'>;

/**
 * The scopes a service user needs so that an API of project `projectId`
 * accepts its token: `openid`, the project in the token's audience (without
 * it ZITADEL's introspection answers `active: false`), and the project roles.
 *
 * @example
 * ```ts
 * serviceUserTokenSource({ issuer, key, scope: projectScopes('301255683459087361') });
 * ```
 */
export function projectScopes(projectId: string): string[] {
  return [
    'openid',
    `urn:zitadel:iam:org:project:id:${projectId}:aud`,
    'urn:zitadel:iam:org:projects:roles',
  ];
}

/**
 * The names in `names` that are unset or empty in `env`.
 *
 * @example
 * ```ts
 * missingEnv(process.env, ['ZITADEL_ISSUER', 'ZITADEL_KEY_FILE']); // ['ZITADEL_KEY_FILE']
 * ```
 */
export function missingEnv(env: NodeJS.ProcessEnv, names: string[]): string[] {
  return names.filter((name) => !env[name]);
}

/**
 * The `zitadelAuth()` middleware for the ZITADEL in `env` (`ZITADEL_ISSUER`,
 * `ZITADEL_KEY_FILE`, optional `ZITADEL_PROJECT_ID`), ready: its key file
 * read and the issuer discovered. Resolves to `undefined` after printing
 * `cannot start: …` to `out` when either is wrong — at start-up, not on the
 * first request.
 *
 * @example
 * ```ts
 * const auth = await startAuth(process.env, console);
 * if (!auth) process.exit(1);
 * ```
 */
export async function startAuth(
  env: NodeJS.ProcessEnv,
  out: Output,
  logger?: Logger,
): Promise<ZitadelAuthMiddleware | undefined> {
  const auth = zitadelAuth({
    issuer: env.ZITADEL_ISSUER as string,
    key: env.ZITADEL_KEY_FILE as string,
    projectId: env.ZITADEL_PROJECT_ID || undefined,
    logger,
  });
  try {
    await auth.introspector.ready();
    return auth;
  } catch (error) {
    out.error(`cannot start: ${(error as Error).message}`);
    await auth.introspector.close();
    return undefined;
  }
}

/**
 * Runs a server example's `main()` when its file is run directly: exit code
 * 1 when it did not start, and `close()` on SIGINT / SIGTERM.
 *
 * @example
 * ```ts
 * if (require.main === module) runFromCommandLine(() => main());
 * ```
 */
export function runFromCommandLine(main: () => Promise<Listening | undefined>): void {
  main().then(
    (running) => {
      if (!running) {
        process.exitCode = 1;
        return;
      }
      const stop = () => void running.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: Error) => {
      console.error(`cannot start: ${error.message}`);
      process.exitCode = 1;
    },
  );
}

/**
 * A listening HTTP server and how to stop it.
 *
 * @example
 * ```ts
 * const { url, close } = await listen(app, 0);
 * ```
 */
export interface Listening {
  /** `http://127.0.0.1:<port>` (or the host given), no trailing slash. */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, drops idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

/**
 * Starts `app` on `port` (0 = a free one) of `host`.
 *
 * @example
 * ```ts
 * const api = await listen(createApi({ auth }), Number(process.env.PORT ?? 3000));
 * console.log(`listening on ${api.url}`);
 * ```
 */
export function listen(app: Express, port: number, host = '127.0.0.1'): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) return reject(error);
      const actualPort = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host}:${actualPort}`,
        port: actualPort,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // fetch keeps connections alive; without this, close() waits for their timeout.
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/**
 * The introspector's counters on one line.
 *
 * @example
 * ```ts
 * console.log(formatStats(auth.introspector.stats()));
 * // hits=13 misses=4 coalesced=0 introspections=4 errors=0 staleServed=0 shed=0
 * ```
 */
export function formatStats(stats: IntrospectorStats): string {
  return Object.entries(stats)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
