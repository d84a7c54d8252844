/**
 * Shared pieces of the Express tests: both Express majors, an app wired like
 * the README's quick start, the ZITADEL fixture, and raw HTTP over a socket
 * for bytes Node's HTTP client refuses to send.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import express4 from 'express4';
import { authErrorHandler } from '../../lib/express/error-handler';
import {
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib/express/middleware';
import { getRequestState } from '../../lib/express/request-state';
import type { ScriptedZitadel } from '../helpers/scripted-zitadel';

export type ExpressFactory = typeof express;

/** Every behaviour is checked on both supported majors. */
export const expressVersions: Array<[string, ExpressFactory]> = [
  ['express 5', express],
  ['express 4', express4],
];

/** The ZITADEL fixture of an active service user, with an `exp` in the future. */
export function activeFixture(): Record<string, unknown> {
  const fixture = JSON.parse(
    readFileSync(join(__dirname, '../fixtures/introspection-active-service-user.json'), 'utf8'),
  ) as Record<string, unknown>;
  return { ...fixture, exp: Math.floor(Date.now() / 1000) + 3600 };
}

export const ACME = '301255600000000001';
export const GLOBEX = '301255600000000777';

/**
 * An app with `before` handlers on `/api`, a route answering what the
 * middleware left on the request, and `authErrorHandler()`.
 */
export function protectedApp(factory: ExpressFactory, ...before: RequestHandler[]): Express {
  const app = factory();
  app.all('/api', ...before, (req, res) => {
    res.json({
      anonymous: req.auth === undefined,
      subject: req.auth?.subject,
      token: req.auth?.token,
      location: getRequestState(req)?.tokenLocation,
      realm: getRequestState(req)?.realm,
    });
  });
  app.use(authErrorHandler());
  return app;
}

/**
 * Builds real middlewares talking to `zitadel` with client_secret_basic, no
 * cache and no retries (each request reaches the endpoint once); `closeAll`
 * closes their introspectors.
 */
export function middlewareFactory(zitadel: () => ScriptedZitadel) {
  const built: ZitadelAuthMiddleware[] = [];
  return {
    auth(options: Partial<ZitadelAuthOptions> = {}): ZitadelAuthMiddleware {
      const middleware = zitadelAuth({
        issuer: zitadel().issuer,
        introspectionEndpoint: zitadel().introspectionEndpoint,
        clientId: 'api-client',
        clientSecret: 'api-secret',
        cache: false,
        retries: 0,
        ...options,
      });
      built.push(middleware);
      return middleware;
    },
    closeAll: () => Promise.all(built.map((m) => m.introspector.close())),
  };
}

/** The token-bearing header. */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A raw HTTP/1.1 answer. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Starts `app` on 127.0.0.1 for raw-socket requests. */
export async function listen(app: Express): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends `GET /api` with an Authorization header of exactly `headerBytes`
 * (plus `extraHeaderLines`, raw) and reads the answer until the server
 * closes the connection.
 */
export function rawRequest(
  port: number,
  headerBytes: Buffer | undefined,
  extraHeaderLines: string[] = [],
): Promise<RawResponse> {
  const head = Buffer.from(`GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`);
  const auth = headerBytes
    ? Buffer.concat([Buffer.from('Authorization: '), headerBytes, Buffer.from('\r\n')])
    : Buffer.alloc(0);
  const extra = Buffer.from(extraHeaderLines.map((line) => `${line}\r\n`).join(''));
  const request = Buffer.concat([head, auth, extra, Buffer.from('\r\n')]);
  return new Promise((resolve, reject) => {
    // Not half-closed: Node's server would drop a request still waiting on introspection.
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRaw(Buffer.concat(chunks).toString('latin1'))));
  });
}

function parseRaw(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}
