/**
 * A real HTTP reverse proxy on 127.0.0.1 in front of an upstream URL (the
 * local ZITADEL, a scripted one), whose behaviour can be switched per path
 * while tests run: pass through, answer a status, hang, pass slowly, reset
 * the connection mid-body, send garbage or a 10 MiB body, redirect, echo the
 * request back. It counts requests per path, how many are open at once (the
 * peak too), the bytes written for a huge body, and keeps each request's body
 * (for secret scans of what was sent: client assertions, Basic credentials).
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with a request on a path. */
export type Fault =
  | { kind: 'pass' }
  /** Answer this status (no call upstream). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Never answer; the socket stays open until the client gives up or the proxy closes. */
  | { kind: 'hang' }
  /** Wait, then pass through. */
  | { kind: 'slow'; delayMs: number }
  /** Headers and a few bytes of a JSON body announced as 1000 bytes, then a destroyed socket. */
  | { kind: 'reset' }
  /** Destroy the connection before any answer. */
  | { kind: 'drop' }
  /** 200 with an HTML body. */
  | { kind: 'non-json' }
  /** 200 with a JSON array (`[{"active":true}]`). */
  | { kind: 'json-array' }
  /** 200 (or `status`) with this JSON value or raw body. */
  | { kind: 'json'; value: unknown; status?: number }
  | { kind: 'body'; body: string; status?: number; headers?: Record<string, string> }
  /** A 200 JSON body of `bytes` (default 10 MiB), streamed with back-pressure, chunked. */
  | { kind: 'huge'; bytes?: number }
  /** A redirect (default 307) to `location`. */
  | { kind: 'redirect'; location: string; status?: number }
  /** Answers `status` with what it received (body and Authorization) inside `error_description`. */
  | { kind: 'echo'; status: number };

/** What happened on one path since the last `reset()`. */
export interface PathStats {
  requests: number;
  /** Requests on this path not yet answered (or closed). */
  open: number;
  /** The most requests ever open at once on this path. */
  maxOpen: number;
  /** Body bytes the proxy managed to write for `huge` answers. */
  hugeBytesWritten: number;
}

/** A request as the proxy received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Switches the behaviour of one path (exact pathname, query ignored). */
  set(path: string, fault: Fault): void;
  /** Every path back to `pass`, counters and received requests cleared. */
  reset(): void;
  stats(path: string): PathStats;
  /** Requests received on a path (at most the last 5 000), oldest first. */
  received(path: string): ReceivedRequest[];
  /** Resolves once no request is open on `path` (or after `timeoutMs`, rejecting). */
  idle(path: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const TEN_MIB = 10 * 1024 * 1024;
const KEPT_REQUESTS = 5000;

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Listen on this port (e.g. one a client was already told about); default a free one. */
  port?: number;
}

/**
 * Starts the proxy in front of `upstream` (its origin; paths are kept).
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy(zitadel.issuer);
 * const auth = zitadelAuth({
 *   issuer: zitadel.issuer,
 *   key: zitadel.apiKeyFile,
 *   introspectionEndpoint: `${proxy.url}/oauth/v2/introspect`,
 * });
 * proxy.set('/oauth/v2/introspect', { kind: 'status', status: 503, headers: { 'Retry-After': '1' } });
 * proxy.stats('/oauth/v2/introspect').requests; // 1 after one request
 * ```
 */
export async function startFaultProxy(
  upstream: string,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const faults = new Map<string, Fault>();
  const stats = new Map<string, PathStats>();
  const received = new Map<string, ReceivedRequest[]>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const statsOf = (path: string): PathStats => {
    let entry = stats.get(path);
    if (!entry) {
      entry = { requests: 0, open: 0, maxOpen: 0, hugeBytesWritten: 0 };
      stats.set(path, entry);
    }
    return entry;
  };
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const entry = statsOf(path);
    entry.requests++;
    entry.open++;
    entry.maxOpen = Math.max(entry.maxOpen, entry.open);
    res.on('close', () => entry.open--);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const list = received.get(path) ?? [];
      list.push({ method: req.method ?? '', path, headers: req.headers, body: body.toString() });
      if (list.length > KEPT_REQUESTS) list.shift();
      received.set(path, list);
      const fault = faults.get(path) ?? { kind: 'pass' };
      const ctx = { req, res, body, entry, forward: () => forward(req, res, body) };
      answer(fault, ctx);
    });
  });

  function answer(fault: Fault, ctx: AnswerContext) {
    const { req, res, body, entry } = ctx;
    switch (fault.kind) {
      case 'pass':
        return ctx.forward();
      case 'slow':
        return later(fault.delayMs, () => (res.destroyed ? undefined : ctx.forward()));
      case 'hang':
        return;
      case 'drop':
        return void req.socket.destroy();
      case 'status':
        return void res.writeHead(fault.status, fault.headers).end(fault.body ?? '');
      case 'non-json':
        return void res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<html><body>502 Bad Gateway</body></html>');
      case 'json-array':
        return sendJson(res, 200, [{ active: true, sub: 'array' }]);
      case 'json':
        return sendJson(res, fault.status ?? 200, fault.value);
      case 'body':
        return void res
          .writeHead(fault.status ?? 200, { 'content-type': 'application/json', ...fault.headers })
          .end(fault.body);
      case 'reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"active":tr');
        return later(5, () => res.destroy());
      case 'huge':
        return streamHuge(res, fault.bytes ?? TEN_MIB, entry);
      case 'redirect':
        return void res.writeHead(fault.status ?? 307, { location: fault.location }).end();
      case 'echo':
        return sendJson(res, fault.status, {
          error: 'unauthorized_client',
          error_description: `received ${body.toString()} with ${req.headers.authorization ?? ''}`,
        });
    }
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, mayRetry = true) {
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    const upstreamRequest = httpRequest(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
        res.on('close', () => upstreamResponse.destroy());
      },
    );
    upstreamRequest.on('error', (error: NodeJS.ErrnoException) => {
      // The upstream closed an idle keep-alive socket as we reused it: not a fault we injected.
      if (mayRetry && upstreamRequest.reusedSocket && error.code === 'ECONNRESET') {
        return forward(req, res, body, false);
      }
      if (!res.headersSent) res.writeHead(502).end('upstream unreachable');
      else res.destroy();
    });
    upstreamRequest.end(body);
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    set: (path, fault) => void faults.set(path, fault),
    reset() {
      faults.clear();
      stats.clear();
      received.clear();
    },
    stats: (path) => ({ ...statsOf(path) }),
    received: (path) => [...(received.get(path) ?? [])],
    async idle(path, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (statsOf(path).open > 0) {
        if (Date.now() > deadline) throw new Error(`requests on ${path} still open`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A port nothing listens on right now (bound, then released), for a server
 * that is "not started yet".
 *
 * @example
 * ```ts
 * const port = await freePort();
 * const issuer = `http://127.0.0.1:${port}`; // ECONNREFUSED until a proxy listens there
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface AnswerContext {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  entry: PathStats;
  forward(): void;
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/**
 * Writes `{"active":true,"pad":"      …` up to `bytes`, waiting for 'drain', so
 * that what is counted is what the client's side (socket buffers included)
 * actually accepted. Stops when the client goes away.
 */
function streamHuge(res: ServerResponse, bytes: number, entry: PathStats) {
  res.writeHead(200, { 'content-type': 'application/json' });
  const head = Buffer.from('{"active":true,"pad":"');
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let written = 0;
  const write = (data: Buffer) => {
    written += data.length;
    entry.hugeBytesWritten += data.length;
    return res.write(data);
  };
  const pump = () => {
    while (!res.destroyed && written < bytes) {
      if (!write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end('"}');
  };
  write(head);
  pump();
}
