/**
 * The fetch-shaped client over node:http that the introspector owns, against
 * a real HTTP server: what it sends, the responses it builds, and the calls
 * it refuses.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgentFetch, type AgentFetch } from '../../lib/zitadel/agent-fetch';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[];
let client: AgentFetch;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url === '/no-content') return res.writeHead(204).end();
      if (req.url === '/redirect') return res.writeHead(302, { location: '/elsewhere' }).end();
      if (req.url === '/odd-status') return res.writeHead(600).end('x');
      res.writeHead(200, [
        ['content-type', 'application/json'],
        ['x-twice', 'a'],
        ['x-twice', 'b'],
      ]);
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  client = createAgentFetch();
});

afterEach(() => client.destroy());

it('POSTs a string body with its content-length and the given headers', async () => {
  const body = new URLSearchParams({ token: 'tök', token_type_hint: 'access_token' }).toString();
  const response = await client.fetch(`${base}/introspect`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ ok: true });
  expect(response.headers.get('x-twice')).toBe('a, b');
  expect(seen).toEqual([
    expect.objectContaining({
      method: 'POST',
      url: '/introspect',
      body,
      headers: expect.objectContaining({
        accept: 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      }),
    }),
  ]);
  expect(seen[0].headers['transfer-encoding']).toBeUndefined();
});

it('takes a URL, a Request or a string; GET without a body by default', async () => {
  await (await client.fetch(new URL(`${base}/a`))).text();
  await (await client.fetch(new Request(`${base}/b`))).text();
  await (await client.fetch(`${base}/c`, { body: new URLSearchParams({ x: '1' }) })).text();
  expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
    ['GET', '/a', ''],
    ['GET', '/b', ''],
    ['GET', '/c', 'x=1'],
  ]);
});

it('gives a 204 without a body, and a redirect as it is (not followed)', async () => {
  const empty = await client.fetch(`${base}/no-content`);
  expect(empty.status).toBe(204);
  expect(empty.body).toBeNull();
  const redirect = await client.fetch(`${base}/redirect`);
  expect(redirect.status).toBe(302);
  expect(redirect.headers.get('location')).toBe('/elsewhere');
  await redirect.text();
  expect(seen.map((s) => s.url)).toEqual(['/no-content', '/redirect']);
});

it('rejects a status a Response cannot hold', async () => {
  await expect(client.fetch(`${base}/odd-status`)).rejects.toMatchObject({ name: 'RangeError' });
});

it('refuses other protocols and body types before any request', async () => {
  await expect(client.fetch('ftp://127.0.0.1/x')).rejects.toThrow('unsupported protocol ftp:');
  await expect(
    client.fetch(`${base}/x`, { method: 'POST', body: new Uint8Array([1]) }),
  ).rejects.toThrow('only string and URLSearchParams bodies are supported');
  expect(seen).toEqual([]);
});

it('stops at an aborted signal', async () => {
  await expect(client.fetch(`${base}/x`, { signal: AbortSignal.abort() })).rejects.toThrow();
  expect(seen).toEqual([]);
});

it('speaks TLS for https: (a closed port is refused)', async () => {
  const closed = `https://127.0.0.1:${(server.address() as AddressInfo).port + 1}`;
  await expect(client.fetch(closed)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

it('after destroy(), every call fails with ERR_CLIENT_CLOSED', async () => {
  client.destroy();
  await expect(client.fetch(`${base}/x`)).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
  expect(seen).toEqual([]);
});
