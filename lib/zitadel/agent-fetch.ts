/**
 * The introspector's own HTTP client when no `fetch` option is given: a
 * fetch-shaped function over `node:http`/`node:https` with keep-alive agents
 * that the introspector owns, so that `close()` can close their sockets. The
 * global fetch's connection pool belongs to the whole process and cannot be
 * closed by one of its users.
 *
 * It does what the calls to ZITADEL need and nothing more: string bodies,
 * no redirects followed (as `redirect: 'manual'`), abort through `signal`,
 * the body as a stream so that a bounded read can stop early.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** A fetch function and the way to close its connections. */
export interface AgentFetch {
  fetch: typeof fetch;
  /** Closes every socket, idle or busy; later calls fail with `ERR_CLIENT_CLOSED`. */
  destroy(): void;
}

/**
 * How long an idle connection is kept for reuse, like the global fetch's
 * default: servers close idle connections too, and reusing one that the
 * server is closing at that moment costs a failed attempt.
 */
const IDLE_SOCKET_MS = 4000;

/** Statuses whose responses carry no body (a `Response` refuses one). */
const NO_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Creates the client. Idle sockets do not keep the process alive.
 *
 * @example
 * ```ts
 * const http = createAgentFetch();
 * const response = await http.fetch(url, { method: 'POST', headers, body, signal });
 * http.destroy(); // on close()
 * ```
 */
export function createAgentFetch(): AgentFetch {
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
  const agents = { 'http:': new HttpAgent(options), 'https:': new HttpsAgent(options) };
  let destroyed = false;

  function agentFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      if (destroyed) return reject(codedError('the HTTP client is closed', 'ERR_CLIENT_CLOSED'));
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return reject(new TypeError(`unsupported protocol ${url.protocol}`));
      }
      const body = bodyOf(init.body);
      const headers = Object.fromEntries(new Headers(init.headers));
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          agent: agents[url.protocol],
          signal: init.signal ?? undefined,
        },
        (response) => {
          try {
            resolve(toResponse(response));
          } catch (error) {
            response.destroy();
            reject(error);
          }
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  return {
    fetch: agentFetch as typeof fetch,
    destroy() {
      destroyed = true;
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function bodyOf(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof URLSearchParams) return String(body);
  throw new TypeError('only string and URLSearchParams bodies are supported');
}

/** A WHATWG Response over the Node response; its body stays a stream. */
function toResponse(response: IncomingMessage): Response {
  // Always set on a client response; Number() only narrows the type.
  const status = Number(response.statusCode);
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2)
    headers.append(raw[index], raw[index + 1]);
  if (NO_BODY_STATUSES.has(status)) {
    response.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, { status, headers });
}

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
