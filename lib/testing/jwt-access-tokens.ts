/**
 * JWT access tokens as ZITADEL issues them for a user set to token type JWT
 * (runs in the child process): ZITADEL's claims, no `scope`, signed RS256 by
 * the instance's web keys (served at `/oauth/v2/keys`, rotatable), and still
 * introspectable — signature and expiry first, then the `jti` lookup that
 * makes revocation apply. oidc-provider cannot introspect JWT-format tokens,
 * so the kit mints and answers them itself.
 */
import { createHash, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { IssuedJwt } from './admin';
import type { ServiceUser } from './directory';
import type { TokenFacts } from './introspection-answer';
import { generateRsaKey, type GeneratedKey } from './keys';
import { projectRoleClaims, RESOURCE_OWNER_SCOPE, resourceOwnerClaims } from './zitadel-claims';

const ALG = 'RS256';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

interface Issued {
  userId: string;
  scope: string;
  revoked: boolean;
}

/**
 * What a new JWT access token is made of.
 *
 * @example
 * ```ts
 * await tokens.mint({ user, clientId: user.clientId, scope, aud, expiresIn: 3600 });
 * ```
 */
export interface MintRequest {
  user: ServiceUser;
  clientId: string;
  scope: string;
  aud: string[];
  expiresIn: number;
}

/**
 * The issuer's web keys and the JWT access tokens signed with them.
 *
 * @example
 * ```ts
 * const tokens = new JwtAccessTokens({ issuer, projectId, nextId, initialKey, initialKid });
 * const jwt = await tokens.mint({ user, clientId, scope, aud, expiresIn: 3600 });
 * ```
 */
export class JwtAccessTokens {
  private readonly keys: SigningKey[] = [];
  private readonly issued = new Map<string, Issued>();
  private readonly issuer: string;
  private readonly projectId: string;
  private readonly nextId: () => string;

  constructor(options: {
    issuer: string;
    projectId: string;
    nextId: () => string;
    initialKey: GeneratedKey;
    initialKid: string;
  }) {
    this.issuer = options.issuer;
    this.projectId = options.projectId;
    this.nextId = options.nextId;
    this.addKey(options.initialKid, options.initialKey);
  }

  /** The public keys, as `/oauth/v2/keys` serves them (the signing key last). */
  jwks(): { keys: object[] } {
    return {
      keys: this.keys.map(({ kid, publicJwk }) => ({ ...publicJwk, kid, alg: ALG, use: 'sig' })),
    };
  }

  /** Adds a key and signs with it from now on; resolves to its `kid`. */
  async rotate(): Promise<string> {
    const kid = this.nextId();
    this.addKey(kid, await generateRsaKey());
    return kid;
  }

  /** Drops a key: tokens it signed stop verifying, locally and at introspection. */
  remove(kid: string): void {
    const index = this.keys.findIndex((key) => key.kid === kid);
    if (index < 0) throw new Error(`no signing key with kid ${String(kid)}`);
    this.keys.splice(index, 1);
  }

  /** Signs a token with ZITADEL's claims and remembers its `jti`. */
  async mint({ user, clientId, scope, aud, expiresIn }: MintRequest): Promise<string> {
    const signer = this.signer();
    const jti = `${this.nextId()}.${this.nextId()}`;
    const iat = Math.floor(Date.now() / 1000);
    const scopes = new Set(scope.split(' '));
    this.issued.set(jti, { userId: user.id, scope, revoked: false });
    const claims = {
      client_id: clientId,
      ...projectRoleClaims(user.roles, this.projectId),
      ...(scopes.has(RESOURCE_OWNER_SCOPE) ? resourceOwnerClaims(user.orgId) : {}),
    };
    return this.signed(signer, claims, { user, aud, iat, expiresIn })
      .setNotBefore(iat)
      .setJti(jti)
      .sign(signer.privateKey);
  }

  /**
   * The ID token ZITADEL returns beside an access token when `openid` is in
   * the scope (zitadel/oidc `NewIDTokenClaims`, ZITADEL's `createIDToken`):
   * the same issuer, subject, audience and web key as the access token, plus
   * `azp`, `client_id`, `auth_time`, `at_hash` of that access token (RS256:
   * the left half of its SHA-256) and, for a JWT access token, `sid`. No
   * `nonce` (no authorization request) and no `jti`. It is not an access
   * token: introspecting it answers `active:false`, and an API that verifies
   * JWTs locally refuses it (`at_hash`).
   */
  async mintIdToken(request: MintRequest & { accessToken: string }): Promise<string> {
    const signer = this.signer();
    const { user, clientId, aud, expiresIn, accessToken } = request;
    const iat = Math.floor(Date.now() / 1000);
    const sessionId = jtiOf(accessToken)?.split('.')[0];
    const digest = createHash('sha256').update(accessToken, 'ascii').digest();
    const claims = {
      azp: clientId,
      client_id: clientId,
      auth_time: iat,
      at_hash: digest.subarray(0, digest.length / 2).toString('base64url'),
      ...(sessionId === undefined ? {} : { sid: sessionId }),
    };
    return this.signed(signer, claims, { user, aud, iat, expiresIn }).sign(signer.privateKey);
  }

  /** A token this issuer minted, whatever its state (for `revokeToken`). */
  find(token: string): IssuedJwt | undefined {
    const jti = jtiOf(token);
    const issued = jti === undefined ? undefined : this.issued.get(jti);
    if (!issued || issued.revoked || jti === undefined) return undefined;
    return { userId: issued.userId, jti, revoke: () => void (issued.revoked = true) };
  }

  /** The facts of a token that verifies with a current key, has not expired and is not revoked. */
  async lookup(token: string): Promise<TokenFacts | undefined> {
    if (jtiOf(token) === undefined) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(this.jwks() as never), {
        issuer: this.issuer,
        algorithms: [ALG],
      }));
    } catch {
      return undefined;
    }
    const issued = this.issued.get(payload.jti as string);
    if (!issued || issued.revoked) return undefined;
    return {
      userId: issued.userId,
      scope: issued.scope,
      aud: [payload.aud ?? []].flat(),
      clientId: payload.client_id as string,
      exp: payload.exp as number,
      iat: payload.iat as number,
      jti: payload.jti as string,
      isPat: false,
    };
  }

  /** The newest key, which signs everything minted now. */
  private signer(): SigningKey {
    const signer = this.keys.at(-1);
    if (!signer) throw new Error('no signing key left: rotateSigningKey() adds one');
    return signer;
  }

  /** What access and ID tokens share: header, issuer, subject, audience, lifetime. */
  private signed(
    signer: SigningKey,
    claims: JWTPayload,
    at: { user: ServiceUser; aud: MintRequest['aud']; iat: number; expiresIn: number },
  ): SignJWT {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: signer.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(at.user.id)
      .setAudience(at.aud)
      .setExpirationTime(at.iat + at.expiresIn)
      .setIssuedAt(at.iat);
  }

  private addKey(kid: string, key: GeneratedKey): void {
    this.keys.push({ kid, privateKey: createPrivateKey(key.privatePem), publicJwk: key.publicJwk });
  }
}

/** The `jti` of something shaped like a JWT, else undefined (never throws). */
function jtiOf(token: string): string | undefined {
  if (typeof token !== 'string' || token.split('.').length !== 3) return undefined;
  try {
    const { jti } = decodeJwt(token);
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    return undefined;
  }
}
