/** Real keys and real node:http servers on 127.0.0.1 for the tests of lib/zitadel. */
import { generateKeyPairSync, type KeyObject, createPublicKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GeneratedKey {
  pem: string;
  publicKey: KeyObject;
}

export function rsaPkcs1(): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { pem: privateKey, publicKey: createPublicKey(publicKey) };
}

export function rsaPkcs8(): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { pem: privateKey, publicKey: createPublicKey(publicKey) };
}

export function ecKey(namedCurve: 'P-256' | 'P-384' | 'P-521'): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve,
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { pem: privateKey, publicKey: createPublicKey(publicKey) };
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Recorded, res: http.ServerResponse) => unknown;

export interface TestServer {
  url: string;
  requests: Recorded[];
  handler: Handler;
  close(): Promise<void>;
}

/** A server whose `handler` can be swapped per test; it records every request. */
export async function startServer(
  handler: Handler = (_req, res) => res.end(),
): Promise<TestServer> {
  const requests: Recorded[] = [];
  const state: TestServer = {
    url: '',
    requests,
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve(state.handler(recorded, res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Decodes `Basic base64(formUrlEncode(id):formUrlEncode(secret))` as a server would. */
export function decodeBasic(
  header: string | undefined,
): { id: string; secret: string } | undefined {
  const match = /^Basic (.+)$/.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const formDecode = (text: string) => new URLSearchParams(`v=${text}`).get('v') ?? '';
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}
