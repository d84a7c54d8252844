/**
 * A real HTTP issuer for the local-JWT tests: discovery with `jwks_uri`, a
 * JWKS it serves from keys minted with jose (rotation, removal, faults, a
 * request count), and an introspection endpoint answering what the test
 * scripts (by default: active with the token's own claims, unless revoked).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export interface JwtIssuer {
  issuer: string;
  projectId: string;
  clientId: string;
  clientSecret: string;
  /** Keys currently published; the first signs. */
  keys: SigningKey[];
  jwksRequests: number;
  /** Introspection requests, by token. */
  introspections: string[];
  /** Fault for the JWKS endpoint: an HTTP status to answer, 'reset', or undefined. */
  keysFault: number | 'reset' | undefined;
  /** Cache-Control of the JWKS answer. */
  keysCacheControl: string | undefined;
  /** Extra or replaced claims for the introspection answer of a token. */
  introspectionClaims: Map<string, Record<string, unknown>>;
  revoked: Set<string>;
  /** Tokens minted here: introspection answers active only for these (ZITADEL looks the jti up). */
  issued: Set<string>;
  /** Introspection answers this status (e.g. 503) while set. */
  introspectionFault: number | undefined;
  rotate(alg?: string): Promise<SigningKey>;
  remove(kid: string): void;
  /** A JWT access token as ZITADEL issues it; `claims` override, `header` overrides the protected header. */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export interface MintOptions {
  key?: SigningKey;
  header?: Record<string, unknown>;
  /** Claims to leave out. */
  omit?: string[];
}

export async function newSigningKey(alg = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export async function startJwtIssuer(options: { alg?: string } = {}): Promise<JwtIssuer> {
  const sockets = new Set<Socket>();
  const state: JwtIssuer = {
    issuer: '',
    projectId: '300000000000000001',
    clientId: 'api-app@project',
    clientSecret: 'api-secret',
    keys: [await newSigningKey(options.alg)],
    jwksRequests: 0,
    introspections: [],
    keysFault: undefined,
    keysCacheControl: 'public, max-age=300',
    introspectionClaims: new Map(),
    revoked: new Set(),
    issued: new Set(),
    introspectionFault: undefined,
    async rotate(alg) {
      const key = await newSigningKey(alg ?? options.alg);
      state.keys.unshift(key);
      return key;
    },
    remove(kid) {
      state.keys = state.keys.filter((key) => key.kid !== kid);
    },
    async mint(claims = {}, mint = {}) {
      const key = mint.key ?? state.keys[0];
      const nowSeconds = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: state.issuer,
        sub: 'svc-1',
        aud: [state.projectId, 'other-app'],
        exp: nowSeconds + 3600,
        iat: nowSeconds,
        nbf: nowSeconds,
        jti: `${randomUUID()}.${randomUUID()}`,
        client_id: 'svc-1',
        'urn:zitadel:iam:user:resourceowner:id': 'org-1',
        [`urn:zitadel:iam:org:project:${state.projectId}:roles`]: {
          reader: { 'org-1': 'acme.localhost' },
        },
        ...claims,
      };
      for (const name of mint.omit ?? []) delete payload[name];
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...mint.header })
        .sign(key.privateKey);
      state.issued.add(token);
      return token;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration') {
        return json(200, {
          issuer: state.issuer,
          introspection_endpoint: `${state.issuer}/oauth/v2/introspect`,
          token_endpoint: `${state.issuer}/oauth/v2/token`,
          jwks_uri: `${state.issuer}/oauth/v2/keys`,
        });
      }
      if (req.url === '/oauth/v2/keys') {
        state.jwksRequests++;
        if (state.keysFault === 'reset') return req.socket.destroy();
        if (state.keysFault !== undefined) return json(state.keysFault, { error: 'down' });
        const headers: Record<string, string> = {};
        if (state.keysCacheControl) headers['cache-control'] = state.keysCacheControl;
        return json(200, { keys: state.keys.map((key) => key.jwk) }, headers);
      }
      if (req.url === '/oauth/v2/introspect' && req.method === 'POST') {
        const token =
          new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
        state.introspections.push(token);
        if (state.introspectionFault) return json(state.introspectionFault, { error: 'down' });
        if (state.revoked.has(token) || !state.issued.has(token))
          return json(200, { active: false });
        const claims = decodePayload(token);
        if (!claims) return json(200, { active: false });
        return json(200, { active: true, ...claims, ...state.introspectionClaims.get(token) });
      }
      json(404, { error: 'not_found' });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** The unverified payload of a three-segment token, as ZITADEL would look it up. */
function decodePayload(token: string): Record<string, unknown> | undefined {
  const segments = token.split('.');
  if (segments.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(segments[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
