/**
 * The Express app every hardening suite drives, and a keep-alive HTTP
 * client for it. The app is wired like the README's quick start
 * (`zitadelAuth` on `/api`, a guard, `authErrorHandler()`); its routes echo
 * `req.auth.subject`, so a test can tell which caller got through. Every
 * error that reaches the error handlers is kept (as `util.inspect` shows it,
 * cause included) for secret scans, and an error that is not an AuthError is
 * answered 599 and kept apart: it would be a crash in production.
 */
import { Agent, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { authErrorHandler } from '../../../lib/express/error-handler';
import { requireRole } from '../../../lib/express/guards';

export interface TestApp {
  url: string;
  /** `util.inspect` of every error the app's error handlers saw. */
  errors: string[];
  /** Errors that were not AuthErrors (answered 599). */
  unexpected: string[];
  /** Status and server-side time (arrival to finish) of every answer, in order of finish. */
  timings: Array<{ status: number; ms: number }>;
  /** Replaces the auth middleware in front of the routes. */
  use(auth: RequestHandler): void;
  close(): Promise<void>;
}

/**
 * `GET /api/whoami` answers `{ subject }`; `GET /api/admin` needs the role
 * `admin` first.
 *
 * @example
 * ```ts
 * const app = await startApp(zitadelAuth({ issuer, key }));
 * await createClient().get(`${app.url}/api/whoami`, bearer(token));
 * await app.close();
 * ```
 */
export async function startApp(auth: RequestHandler): Promise<TestApp> {
  let current = auth;
  const errors: string[] = [];
  const unexpected: string[] = [];
  const timings: TestApp['timings'] = [];
  const app = express();
  app.use((_req, res, next) => {
    const arrived = performance.now();
    res.on('finish', () =>
      timings.push({ status: res.statusCode, ms: performance.now() - arrived }),
    );
    next();
  });
  app.use('/api', (req, res, next) => current(req, res, next));
  app.get('/api/whoami', (req, res) => void res.json({ subject: req.auth?.subject }));
  app.get('/api/admin', requireRole('admin'), (req, res) => {
    res.json({ subject: req.auth?.subject, admin: true });
  });
  const record: ErrorRequestHandler = (err, _req, _res, next) => {
    errors.push(inspect(err, { depth: 6 }));
    next(err);
  };
  const last: ErrorRequestHandler = (err, _req, res, _next) => {
    unexpected.push(inspect(err, { depth: 6 }));
    res.status(599).json({ error: 'unexpected' });
  };
  app.use(record, authErrorHandler(), last);

  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  // Node closes a keep-alive socket idle for 5 s; a client reusing it at that
  // moment gets ECONNRESET. On a slow run some pooled sockets idle that long.
  server.keepAliveTimeout = 60_000;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    errors,
    unexpected,
    timings,
    use(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Wall time of the request, for bounds on failure paths only. */
  ms: number;
}

export interface Client {
  get(url: string, headers?: Record<string, string>): Promise<Answer>;
  close(): void;
}

/**
 * A keep-alive client (node:http) with up to `maxSockets` connections.
 *
 * @example
 * ```ts
 * const client = createClient(200);
 * const { status, body, ms } = await client.get(url, { authorization: 'Bearer x' });
 * client.close();
 * ```
 */
export function createClient(maxSockets = 100): Client {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    get(url, headers = {}) {
      const started = Date.now();
      return new Promise((resolve, reject) => {
        const req = request(url, { agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
              ms: Date.now() - started,
            }),
          );
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * Runs `count` jobs with at most `concurrency` at once, in order of index;
 * resolves with their results by index.
 *
 * @example
 * ```ts
 * const answers = await runPool(2000, 200, (i) => client.get(url, bearer(tokens[i])));
 * ```
 */
export async function runPool<T>(
  count: number,
  concurrency: number,
  job: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await job(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * `{ Authorization: 'Bearer …' }`.
 *
 * @example
 * ```ts
 * await client.get(url, bearer(token));
 * ```
 */
export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

/**
 * The JSON body of an answer, or `undefined`.
 *
 * @example
 * ```ts
 * expect(jsonOf(answer)?.subject).toBe(userId);
 * ```
 */
export function jsonOf(answer: Answer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Asserts an error answer's status, code and the headers the contract asks for.
 *
 * @example
 * ```ts
 * expectErrorAnswer(await client.get(url, bearer(token)), 503);
 * ```
 */
export function expectErrorAnswer(answer: Answer, status: 400 | 401 | 403 | 500 | 503): void {
  expect(answer.status).toBe(status);
  const code = { 400: 'invalid_request', 401: undefined, 403: 'insufficient_scope' }[
    status as 400 | 401 | 403
  ];
  const body = jsonOf(answer);
  if (status === 503) {
    expect(body?.error).toBe('temporarily_unavailable');
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(answer.headers['www-authenticate']).toBeUndefined();
  } else if (status === 500) {
    expect(body?.error).toBe('server_error');
    expect(answer.headers['www-authenticate']).toBeUndefined();
  } else {
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
    if (code) expect(body?.error).toBe(code);
  }
}
