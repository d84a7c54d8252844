/**
 * Cheap JWT access tokens for the jwt-cold / jwt-hit variants: minted here
 * with jose (ES256), not at the local ZITADEL's token endpoint (50,000 grants
 * would take minutes). A small real JWKS server serves the public key, so the
 * middleware's local path (`jwt.jwksUri`) trusts exactly these tokens. The
 * claims are what the local path requires: three segments, header `kid`,
 * `iss` = the issuer, `aud` ∋ the project id, `jti`, `client_id`, `exp`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/**
 * A running JWKS server and a minter of tokens it vouches for.
 *
 * @example
 * ```ts
 * const jwt = await startJwtIssuer({ issuer, projectId });
 * const tokens = await jwt.mint(2000);
 * await jwt.close();
 * ```
 */
export interface JwtIssuer {
  jwksUri: string;
  /** `count` distinct signed tokens, valid for an hour. */
  mint(count: number): Promise<string[]>;
  close(): Promise<void>;
}

const KID = 'bench-es256';

/**
 * Starts the JWKS server on a free loopback port.
 *
 * @example
 * ```ts
 * const { jwksUri } = await startJwtIssuer({ issuer: z.issuer, projectId: z.projectId });
 * ```
 */
export async function startJwtIssuer(claims: {
  issuer: string;
  projectId: string;
}): Promise<JwtIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}/oauth/v2/keys`,
    mint: (count) => mint(privateKey, claims, count),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function mint(
  key: CryptoKey,
  claims: { issuer: string; projectId: string },
  count: number,
): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const jti = randomUUID();
    tokens.push(
      await new SignJWT({ client_id: 'bench-caller', scope: 'openid' })
        .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'at+jwt' })
        .setIssuer(claims.issuer)
        .setAudience([claims.projectId, 'bench-caller'])
        .setSubject(`3${String(i).padStart(17, '0')}`)
        .setJti(jti)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(key),
    );
  }
  return tokens;
}
