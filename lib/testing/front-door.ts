/**
 * The HTTP layer in front of oidc-provider (runs in the child process): it
 * counts the calls each ZITADEL endpoint receives, answers with an injected
 * fault instead of the endpoint when asked to, and serves the JWKS itself
 * (the kit signs JWT access tokens with keys oidc-provider does not know).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CallCounts, Fault, FaultOptions, LocalZitadelEndpoint } from './types';

const ENDPOINTS: readonly LocalZitadelEndpoint[] = ['introspection', 'token', 'discovery', 'keys'];
// ZITADEL lets clients keep its web keys for five minutes.
const JWKS_CACHE_CONTROL = 'max-age=300';
const GARBAGE_BODY = '<html><body>502 Bad Gateway</body></html> {"active":';

/**
 * The paths of the counted endpoints.
 *
 * @example
 * ```ts
 * const door = createFrontDoor({ paths, jwks: () => signer.jwks(), next: provider.callback() });
 * ```
 */
export type EndpointPaths = Record<LocalZitadelEndpoint, string>;

/**
 * What the front door needs: the endpoint paths, the JWKS to serve, and the
 * handler of every request it lets through.
 *
 * @example
 * ```ts
 * createFrontDoor({ paths, jwks: () => ({ keys: [] }), next: provider.callback() });
 * ```
 */
export interface FrontDoorOptions {
  paths: EndpointPaths;
  jwks: () => { keys: object[] };
  next: RequestListener;
}

/**
 * The front door: `handle` is the server's request listener.
 *
 * @example
 * ```ts
 * server.on('request', door.handle);
 * door.injectFault('hang', { endpoint: 'token', times: 1 });
 * ```
 */
export interface FrontDoor {
  handle: RequestListener;
  injectFault(fault: Fault, options?: FaultOptions): void;
  clearFaults(): void;
  calls(): CallCounts;
  resetCalls(): void;
}

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

/**
 * Creates the front door.
 *
 * @example
 * ```ts
 * const door = createFrontDoor({ paths, jwks, next: provider.callback() });
 * ```
 */
export function createFrontDoor({ paths, jwks, next }: FrontDoorOptions): FrontDoor {
  const counts = zeroCounts();
  const faults = new Map<LocalZitadelEndpoint, ArmedFault[]>();
  const endpointOf = (path: string) => ENDPOINTS.find((endpoint) => paths[endpoint] === path);

  return {
    handle(req, res) {
      const endpoint = endpointOf((req.url ?? '/').split('?', 1)[0] as string);
      if (!endpoint) return next(req, res);
      counts[endpoint] += 1;
      const fault = takeFault(faults.get(endpoint));
      if (fault !== undefined) return answerWithFault(fault, req, res);
      if (endpoint === 'keys') return sendJson(res, 200, jwks(), JWKS_CACHE_CONTROL);
      return next(req, res);
    },
    injectFault(fault, options = {}) {
      const endpoint = options.endpoint ?? 'introspection';
      if (!ENDPOINTS.includes(endpoint)) {
        throw new Error(`endpoint must be one of ${ENDPOINTS.join(', ')}`);
      }
      const times = options.times ?? Infinity;
      if (times !== Infinity && (!Number.isInteger(times) || times <= 0)) {
        throw new Error('times must be a positive integer');
      }
      faults.set(endpoint, [
        ...(faults.get(endpoint) ?? []),
        { fault: validFault(fault), remaining: times },
      ]);
    },
    clearFaults: () => faults.clear(),
    calls: () => ({ ...counts }),
    resetCalls: () => Object.assign(counts, zeroCounts()),
  };
}

/** The first armed fault, used up once; later ones wait their turn. */
function takeFault(armed: ArmedFault[] | undefined): Fault | undefined {
  const first = armed?.[0];
  if (!armed || !first) return undefined;
  first.remaining -= 1;
  if (first.remaining <= 0) armed.shift();
  return first.fault;
}

function answerWithFault(fault: Fault, req: IncomingMessage, res: ServerResponse): void {
  // Drain the request so that a hung or answered request does not stall the client's upload.
  req.resume();
  if (fault === 'hang') return;
  if (fault === 'reset') {
    req.socket.resetAndDestroy();
    return;
  }
  if (fault === 'garbage') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(GARBAGE_BODY);
    return;
  }
  const { status, headers = {}, body } = fault;
  const isJson = typeof body === 'object' && body !== null;
  const payload = isJson ? JSON.stringify(body) : (body ?? '');
  const contentType = isJson ? 'application/json' : 'text/plain; charset=utf-8';
  res.writeHead(status, { 'content-type': contentType, ...headers }).end(payload);
}

function sendJson(res: ServerResponse, status: number, body: object, cacheControl: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': cacheControl })
    .end(JSON.stringify(body));
}

function validFault(fault: Fault): Fault {
  if (fault === 'hang' || fault === 'reset' || fault === 'garbage') return fault;
  const status = (fault as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new Error(
      "fault must be 'hang', 'reset', 'garbage' or { status: 200..599, headers?, body? }",
    );
  }
  return fault;
}

function zeroCounts(): CallCounts {
  return { introspection: 0, token: 0, discovery: 0, keys: 0 };
}
