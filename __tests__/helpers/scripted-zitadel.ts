/**
 * A real HTTP server on 127.0.0.1 that speaks like ZITADEL's discovery and
 * introspection endpoints but answers what the test scripts: the answers no
 * real authorization server gives on demand (HTTP 400 unauthorized_client, a
 * 503 with Retry-After, garbage, hangs, resets).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedAnswer {
  status?: number;
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
  /** Send the headers and part of the body, then destroy the socket. */
  resetMidBody?: boolean;
}

export interface IntrospectionRequest {
  token: string | null;
  form: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export interface ScriptedZitadel {
  issuer: string;
  introspectionEndpoint: string;
  /** Every introspection request received, in order. */
  requests: IntrospectionRequest[];
  /** Discovery requests received. */
  discoveryRequests: number;
  /** Answer for one token; `default` for any other. */
  answer(
    token: string | 'default',
    answer: ScriptedAnswer | ((r: IntrospectionRequest) => ScriptedAnswer),
  ): void;
  /** Overrides the discovery answer (default: a document naming this server). */
  discovery(answer: ScriptedAnswer | undefined): void;
  /** Requests currently being answered (delayed or hanging included). */
  open(): number;
  /** TCP connections: accepted since start, and open now (idle keep-alive ones included). */
  connections(): { accepted: number; open: number };
  close(): Promise<void>;
}

export async function startScriptedZitadel(): Promise<ScriptedZitadel> {
  const answers = new Map<string, ScriptedAnswer | ((r: IntrospectionRequest) => ScriptedAnswer)>();
  let discoveryAnswer: ScriptedAnswer | undefined;
  const sockets = new Set<Socket>();
  let openRequests = 0;
  const requests: IntrospectionRequest[] = [];
  let issuer = '';
  const state = { discoveryRequests: 0 };

  const server: Server = createServer((req, res) => {
    openRequests++;
    res.on('close', () => openRequests--);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/.well-known/openid-configuration') {
        state.discoveryRequests++;
        void send(
          res,
          discoveryAnswer ?? {
            json: {
              issuer,
              introspection_endpoint: `${issuer}/oauth/v2/introspect`,
              token_endpoint: `${issuer}/oauth/v2/token`,
            },
          },
        );
        return;
      }
      if (req.url === '/oauth/v2/introspect' && req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const request = { token: form.get('token'), form, headers: req.headers };
        requests.push(request);
        const scripted = answers.get(request.token ?? '') ??
          answers.get('default') ?? { json: { active: false } };
        void send(res, typeof scripted === 'function' ? scripted(request) : scripted);
        return;
      }
      void send(res, { status: 404, json: { error: 'not_found' } });
    });
  });
  let accepted = 0;
  server.on('connection', (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    introspectionEndpoint: `${issuer}/oauth/v2/introspect`,
    requests,
    get discoveryRequests() {
      return state.discoveryRequests;
    },
    answer(token, answer) {
      answers.set(token, answer);
    },
    discovery(answer) {
      discoveryAnswer = answer;
    },
    open: () => openRequests,
    connections: () => ({ accepted, open: sockets.size }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function send(res: ServerResponse, answer: ScriptedAnswer) {
  if (answer.hang) return;
  if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
  if (res.destroyed) return;
  const body =
    answer.body !== undefined ? answer.body : JSON.stringify(answer.json ?? { active: false });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...answer.headers,
  };
  if (answer.resetMidBody) {
    res.writeHead(answer.status ?? 200, { ...headers, 'content-length': '1000' });
    res.write(Buffer.from(body).subarray(0, 5));
    setTimeout(() => res.destroy(), 5);
    return;
  }
  res.writeHead(answer.status ?? 200, headers);
  res.end(body);
}

/** An active answer that expires `seconds` from now. */
export function activeAnswer(claims: Record<string, unknown> = {}, seconds = 3600) {
  return {
    active: true,
    sub: 'svc-1',
    client_id: 'svc-1',
    scope: 'openid',
    exp: Math.floor(Date.now() / 1000) + seconds,
    ...claims,
  };
}
