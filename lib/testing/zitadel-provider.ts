/**
 * The issuer itself (runs in the child process): oidc-provider configured to
 * look and answer like ZITADEL — ZITADEL's paths, an API app with a key file
 * and one with a client secret, ZITADEL's audience rule at introspection and
 * its claims on service users' tokens.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Provider, type Client, type KoaContextWithOIDC, type Token } from 'oidc-provider';
import { createAdmin, grantChanges, type Admin } from './admin';
import { Directory, PROJECT_NAME } from './directory';
import { EventTargets } from './event-targets';
import { createFrontDoor, type FrontDoor } from './front-door';
import {
  attributeJwtBearerToPublicClient,
  JWT_BEARER_CLIENT_ID,
  registerServiceUserGrants,
} from './grants';
import { zitadelIntrospection } from './introspection-answer';
import type { IssuerInfo, IssuerSettings } from './ipc-protocol';
import { JwtAccessTokens } from './jwt-access-tokens';
import { createIdGenerator, generateRsaKey, newClientSecret, type GeneratedKey } from './keys';
import { createMapAdapter } from './map-adapter';
import { createServiceUser, registerClient } from './service-users';
import type {
  EventTarget,
  EventTargetOptions,
  Latency,
  ServiceUserCredentials,
  ServiceUserOptions,
} from './types';

/**
 * ZITADEL's endpoint paths (discovery stays at `/.well-known/openid-configuration`).
 *
 * @example
 * ```ts
 * fetch(`${issuer}${ZITADEL_ROUTES.introspection}`, { method: 'POST', body });
 * ```
 */
export const ZITADEL_ROUTES = {
  authorization: '/oauth/v2/authorize',
  token: '/oauth/v2/token',
  introspection: '/oauth/v2/introspect',
  jwks: '/oauth/v2/keys',
  userinfo: '/oidc/v1/userinfo',
  revocation: '/oauth/v2/revoke',
  end_session: '/oidc/v1/end_session',
} as const;

const ERROR_EVENTS = ['grant.error', 'introspection.error', 'revocation.error', 'server_error'];

/**
 * A running issuer, as the child process drives it.
 *
 * @example
 * ```ts
 * const issuer: LocalIssuer = await startIssuer(settings);
 * await issuer.close();
 * ```
 */
export interface LocalIssuer extends Admin, Omit<FrontDoor, 'handle'> {
  info: IssuerInfo;
  createServiceUser(options: ServiceUserOptions): Promise<Omit<ServiceUserCredentials, 'keyPath'>>;
  setLatency(latency: Latency): void;
  addEventTarget(options: EventTargetOptions): EventTarget;
  rotateSigningKey(): Promise<string>;
  removeSigningKey(kid: string): void;
  close(): Promise<void>;
}

/**
 * Starts the issuer on 127.0.0.1 with a random port.
 *
 * @example
 * ```ts
 * const issuer = await startIssuer(decodeSettings(process.argv[2]));
 * console.log(issuer.info.issuer);
 * ```
 */
export async function startIssuer(settings: IssuerSettings): Promise<LocalIssuer> {
  const nextId = createIdGenerator();
  const directory = new Directory(settings.projectId ?? nextId());
  const [signingKey, apiKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);

  const server = createServer();
  const issuer = await listen(server);
  let latency: Latency = 0;
  const signingKid = nextId();
  const jwtAccessTokens = new JwtAccessTokens({
    issuer,
    projectId: directory.projectId,
    nextId,
    initialKey: signingKey,
    initialKid: signingKid,
  });
  const eventTargets = new EventTargets({ instanceId: nextId(), actorId: nextId() });

  const provider = new Provider(issuer, {
    adapter: createMapAdapter(),
    routes: ZITADEL_ROUTES,
    jwks: { keys: [{ ...signingKey.privateJwk, kid: signingKid, alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    extraClientMetadata: { properties: ['zitadel_project_id'] },
    discovery: {
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
      introspection_endpoint_auth_signing_alg_values_supported: ['RS256'],
      revocation_endpoint_auth_methods_supported: [
        'none',
        'client_secret_basic',
        'private_key_jwt',
      ],
    },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: audienceRule },
      revocation: { enabled: true },
    },
    ttl: {
      AccessToken: settings.accessTokenTtlSeconds,
      ClientCredentials: settings.accessTokenTtlSeconds,
    },
    // Client-credentials tokens have no account: their subject is the service user.
    extraTokenClaims: (_ctx: unknown, token: Token) => {
      const user = directory.userById(token.accountId) ?? directory.userByClientId(token.clientId);
      return user ? { sub: user.id } : undefined;
    },
  });
  registerServiceUserGrants({
    provider,
    directory,
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    jwtAccessTokens,
  });
  provider.use(
    zitadelIntrospection({
      path: ZITADEL_ROUTES.introspection,
      issuer,
      directory,
      lookupJwt: (token) => jwtAccessTokens.lookup(token),
    }),
  );
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === ZITADEL_ROUTES.introspection) {
      await sleep(pickDelay(latency));
    }
    await next();
  });
  provider.use(attributeJwtBearerToPublicClient(ZITADEL_ROUTES.token));
  if (settings.logLevel === 'errors') logErrors(provider);
  const frontDoor = createFrontDoor({
    paths: {
      introspection: ZITADEL_ROUTES.introspection,
      token: ZITADEL_ROUTES.token,
      keys: ZITADEL_ROUTES.jwks,
      discovery: '/.well-known/openid-configuration',
    },
    jwks: () => jwtAccessTokens.jwks(),
    next: provider.callback(),
  });
  server.on('request', frontDoor.handle);

  const info = await registerProjectApps(provider, directory, nextId, issuer, apiKey);
  const env = { provider, directory, nextId, patTtlSeconds: settings.patTtlSeconds };
  const emit = (events: Parameters<EventTargets['emit']>[0]) => eventTargets.emit(events);
  const admin = createAdmin({
    provider,
    directory,
    nextId,
    findJwt: (token) => jwtAccessTokens.find(token),
    emit,
  });
  return {
    info,
    ...admin,
    injectFault: frontDoor.injectFault,
    clearFaults: frontDoor.clearFaults,
    calls: frontDoor.calls,
    resetCalls: frontDoor.resetCalls,
    async createServiceUser(options) {
      const credentials = await createServiceUser(env, options);
      const user = directory.userById(credentials.userId);
      if (user) await emit(grantChanges(directory.projectId, user, {}));
      return credentials;
    },
    addEventTarget: (options) => eventTargets.add(options),
    rotateSigningKey: () => jwtAccessTokens.rotate(),
    removeSigningKey: (kid) => jwtAccessTokens.remove(kid),
    setLatency(value) {
      latency = validLatency(value);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * ZITADEL answers `{"active":false}` unless the token's `aud` holds the
 * calling API app's client id or its project id; only API apps (clients with
 * a project) ever get an active answer.
 */
async function audienceRule(_ctx: KoaContextWithOIDC, client: Client, token: Token) {
  const projectId = client.metadata().zitadel_project_id;
  if (typeof projectId !== 'string') return false;
  const audience = [token.aud ?? []].flat();
  return audience.includes(client.clientId) || audience.includes(projectId);
}

/** The project's two API apps and the public client of the JWT-bearer grant. */
async function registerProjectApps(
  provider: Provider,
  directory: Directory,
  nextId: () => string,
  issuer: string,
  key: GeneratedKey,
): Promise<IssuerInfo> {
  const keyId = nextId();
  const appId = nextId();
  const clientId = `${appId}@${PROJECT_NAME}`;
  const apiClientId = `${nextId()}@${PROJECT_NAME}`;
  const apiClientSecret = newClientSecret();
  const apiApp = { grant_types: [], response_types: [], redirect_uris: [] };
  const project = { zitadel_project_id: directory.projectId };

  await registerClient(provider, directory, {
    client_id: clientId,
    ...apiApp,
    ...project,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: { keys: [{ ...key.publicJwk, kid: keyId, alg: 'RS256', use: 'sig' }] },
  });
  await registerClient(provider, directory, {
    client_id: apiClientId,
    ...apiApp,
    ...project,
    client_secret: apiClientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
  });
  await registerClient(provider, directory, {
    client_id: JWT_BEARER_CLIENT_ID,
    ...apiApp,
    grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
    token_endpoint_auth_method: 'none',
  });
  return {
    issuer,
    projectId: directory.projectId,
    apiKeyFile: { type: 'application', keyId, key: key.privatePem, appId, clientId },
    apiClientId,
    apiClientSecret,
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function pickDelay(latency: Latency): number {
  if (typeof latency === 'number') return latency;
  return latency.min + Math.random() * (latency.max - latency.min);
}

function validLatency(latency: Latency): Latency {
  const valid =
    typeof latency === 'number'
      ? Number.isFinite(latency) && latency >= 0
      : Number.isFinite(latency?.min) &&
        Number.isFinite(latency?.max) &&
        latency.min >= 0 &&
        latency.min <= latency.max;
  if (!valid) throw new Error('latency must be ms >= 0 or { min, max } with 0 <= min <= max');
  return latency;
}

/** Why a request failed, for `logLevel: 'errors'` (oidc-provider only tells the client a generic reason). */
function logErrors(provider: Provider): void {
  for (const event of ERROR_EVENTS) {
    provider.on(event, (_ctx, error) => {
      const reason = error.error_description ?? error.message;
      const detail = error.error_detail ? ` (${error.error_detail})` : '';
      process.stderr.write(
        `local-zitadel ${event}: ${error.error ?? error.name}: ${reason}${detail}\n`,
      );
    });
  }
}
