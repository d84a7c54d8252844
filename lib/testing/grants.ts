/**
 * The two grants service users use, as ZITADEL runs them: the JWT-bearer
 * grant (RFC 7523 §2.1, no client authentication, the assertion is the
 * proof) and client credentials with ZITADEL's audience array.
 */
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { errors, type KoaContextWithOIDC, type Next, type Provider } from 'oidc-provider';
import type { Directory, ServiceUser } from './directory';
import type { JwtAccessTokens } from './jwt-access-tokens';
import { audienceFor, normalizeScope } from './zitadel-claims';

/**
 * RFC 7523's grant type.
 *
 * @example
 * ```ts
 * const metadata = { grant_types: [JWT_BEARER_GRANT] };
 * ```
 */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * The public client every JWT-bearer request is attributed to before the
 * assertion is checked; the token then carries the user's own client.
 *
 * @example
 * ```ts
 * await registerClient(provider, directory, { client_id: JWT_BEARER_CLIENT_ID, ... });
 * ```
 */
export const JWT_BEARER_CLIENT_ID = 'local-zitadel-jwt-bearer';

// oidc-provider's own limit for form bodies.
const MAX_FORM_BYTES = 56 * 1024;
const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

interface GrantContext {
  provider: Provider;
  directory: Directory;
  accessTokenTtlSeconds: number;
  jwtAccessTokens: JwtAccessTokens;
}

// What ZITADEL answers to any refused JWT-bearer assertion today (zitadel#12692).
const REFUSED_ASSERTION = { error: 'server_error', error_description: 'Errors.Internal' };

/**
 * Registers both grants on the provider (client credentials replaces the
 * built-in handler, which supports a single audience only).
 *
 * @example
 * ```ts
 * registerServiceUserGrants({ provider, directory, accessTokenTtlSeconds: 3600, jwtAccessTokens });
 * ```
 */
export function registerServiceUserGrants(grant: GrantContext): void {
  grant.provider.registerGrantType(JWT_BEARER_GRANT, (ctx) => jwtBearer(grant, ctx), [
    'assertion',
    'scope',
  ]);
  grant.provider.registerGrantType('client_credentials', (ctx) => clientCredentials(grant, ctx), [
    'scope',
  ]);
}

/**
 * Koa middleware for `provider.use()`: ZITADEL takes the JWT-bearer grant
 * without client authentication, oidc-provider authenticates every token
 * request first — so a request that names no client gets the public one.
 *
 * @example
 * ```ts
 * provider.use(attributeJwtBearerToPublicClient(tokenPath));
 * ```
 */
export function attributeJwtBearerToPublicClient(tokenPath: string) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    if (
      ctx.method === 'POST' &&
      ctx.path === tokenPath &&
      ctx.is('application/x-www-form-urlencoded') &&
      !ctx.get('authorization')
    ) {
      const form = new URLSearchParams(await readText(ctx.req));
      if (
        form.get('grant_type') === JWT_BEARER_GRANT &&
        !form.has('client_id') &&
        !form.has('client_assertion')
      ) {
        form.set('client_id', JWT_BEARER_CLIENT_ID);
      }
      // The stream is consumed: oidc-provider falls back to req.body.
      ctx.req.body = form.toString();
    }
    await next();
  };
}

async function jwtBearer(grant: GrantContext, ctx: KoaContextWithOIDC): Promise<void> {
  const { provider, accessTokenTtlSeconds } = grant;
  const assertion = ctx.oidc.params?.assertion;
  if (typeof assertion !== 'string' || !assertion) {
    throw new errors.InvalidRequest("missing required parameter 'assertion'");
  }
  let user: ServiceUser;
  try {
    user = await verifyAssertion(grant, assertion);
  } catch (error) {
    // The reason goes to the issuer's log (logLevel 'errors'), the client sees ZITADEL's answer.
    provider.emit('grant.error', ctx, error);
    ctx.status = 500;
    ctx.body = REFUSED_ASSERTION;
    return;
  }
  const scope = normalizeScope(ctx.oidc.params?.scope);
  if (user.accessTokenType === 'jwt') {
    ctx.body = await jwtTokenResponse(grant, user, user.clientId, scope, true);
    return;
  }
  const client = await provider.Client.find(user.clientId);
  const aud = audienceFor(user.clientId, scope);
  const token = new provider.AccessToken({
    accountId: user.id,
    client,
    scope,
    aud,
    gty: JWT_BEARER_GRANT,
    expiresIn: accessTokenTtlSeconds,
  });
  ctx.oidc.entity('AccessToken', token);
  const accessToken = await token.save();
  ctx.body = {
    ...tokenResponse(accessToken, token.expiration, scope),
    ...(await idTokenFor(grant, { user, clientId: user.clientId, scope, aud, accessToken })),
  };
}

async function clientCredentials(grant: GrantContext, ctx: KoaContextWithOIDC): Promise<void> {
  const { provider, directory, accessTokenTtlSeconds } = grant;
  const client = ctx.oidc.client;
  const user = directory.userByClientId(client?.clientId);
  if (!client || user?.auth !== 'secret' || !user.active) {
    throw new errors.CustomOIDCProviderError(
      'unauthorized_client',
      'client credentials are for active service users with a client secret',
    );
  }
  const scope = normalizeScope(ctx.oidc.params?.scope);
  if (user.accessTokenType === 'jwt') {
    ctx.body = await jwtTokenResponse(grant, user, client.clientId, scope, false);
    return;
  }
  const token = new provider.ClientCredentials({
    client,
    scope,
    aud: audienceFor(client.clientId, scope),
    expiresIn: accessTokenTtlSeconds,
  });
  ctx.oidc.entity('ClientCredentials', token);
  ctx.body = tokenResponse(await token.save(), token.expiration, scope);
}

/** Checks the assertion against the service user's registered key; rejects with `invalid_grant`. */
async function verifyAssertion(grant: GrantContext, assertion: string): Promise<ServiceUser> {
  const { directory, provider } = grant;
  let keyId: string | undefined;
  try {
    keyId = decodeProtectedHeader(assertion).kid;
  } catch {
    throw invalidGrant('assertion is not a JWT');
  }
  const key = directory.keyById(keyId);
  const user = directory.userById(key?.userId);
  if (!key || !user) throw invalidGrant('assertion signed with an unknown key (kid)');
  if (!user.active) throw invalidGrant('the service user is deactivated');
  try {
    await jwtVerify(assertion, key.publicKey, {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: user.id,
      subject: user.id,
      audience: [provider.issuer, `${provider.issuer}/`],
      requiredClaims: ['exp', 'iat'],
    });
  } catch (error) {
    throw invalidGrant(`assertion rejected: ${(error as Error).message}`);
  }
  return user;
}

function invalidGrant(description: string) {
  return new errors.CustomOIDCProviderError('invalid_grant', description);
}

async function jwtTokenResponse(
  grant: GrantContext,
  user: ServiceUser,
  clientId: string,
  scope: string,
  withIdToken: boolean,
) {
  const expiresIn = grant.accessTokenTtlSeconds;
  const aud = audienceFor(clientId, scope);
  const token = await grant.jwtAccessTokens.mint({ user, clientId, scope, aud, expiresIn });
  return {
    ...tokenResponse(token, expiresIn, scope),
    ...(withIdToken
      ? await idTokenFor(grant, { user, clientId, scope, aud, accessToken: token })
      : {}),
  };
}

/**
 * ZITADEL's JWT-bearer grant answers an `id_token` when `openid` is in the
 * scope, signed by the instance's web keys (the ones `/oauth/v2/keys` serves).
 * The kit's client-credentials grant answers none (the notes on ZITADEL's
 * source document the id_token for the JWT-bearer grant only).
 */
async function idTokenFor(
  grant: GrantContext,
  request: {
    user: ServiceUser;
    clientId: string;
    scope: string;
    aud: string[];
    accessToken: string;
  },
): Promise<{ id_token?: string }> {
  if (!request.scope.split(' ').includes('openid')) return {};
  const expiresIn = grant.accessTokenTtlSeconds;
  return { id_token: await grant.jwtAccessTokens.mintIdToken({ ...request, expiresIn }) };
}

function tokenResponse(accessToken: string, expiresIn: number, scope: string) {
  return { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope };
}

async function readText(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new errors.InvalidRequest('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
