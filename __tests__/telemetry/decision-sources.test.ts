/**
 * The decision sources and reason that only the second edition's parts
 * produce: `jwt` (a JWT verified locally) and `jwt_invalid` (one that fails
 * a local check), against the local ZITADEL's JWT access tokens; `peer` (a
 * replica that waited for another one's introspection), on a real
 * redis-server with two coordinating stores.
 */
import Redis from 'ioredis';
import request from 'supertest';
import {
  RedisStore,
  serviceUserTokenSource,
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { projectScopes } from '../../examples/shared';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';
import { appWith, bearer, record, type Recorder } from './support';

let z: LocalZitadel;
let events: Recorder;
let jwt: string;
let subject: string;
const built: ZitadelAuthMiddleware[] = [];

function local(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyPath,
    projectId: z.projectId,
    ...options,
  });
  built.push(auth);
  return auth;
}

function authenticateEvents() {
  return events.decisions.filter((event) => event.stage === 'authenticate');
}

beforeAll(async () => {
  z = await startLocalZitadel();
  const user = await z.createServiceUser({
    name: 'jwt-reader',
    roles: { reader: ['acme'] },
    auth: 'key',
    accessTokenType: 'jwt',
  });
  subject = user.userId;
  jwt = await serviceUserTokenSource({
    issuer: z.issuer,
    key: user.keyPath,
    scope: projectScopes(z.projectId),
  }).getToken();
  events = record();
});

afterAll(async () => {
  events?.stop();
  for (const auth of built) await auth.introspector.close();
  await z?.close();
});

beforeEach(() => events.clear());

describe('local JWT verification', () => {
  it('a JWT verified locally is source jwt, its memory hit source memory', async () => {
    const app = appWith(local({ jwt: { verify: 'local', revalidateSeconds: 0 } }));
    await request(app).get('/me').set(bearer(jwt)).expect(200);
    await request(app).get('/me').set(bearer(jwt)).expect(200);
    expect(authenticateEvents()).toEqual([
      expect.objectContaining({ outcome: 'granted', status: 200, source: 'jwt', subject }),
      expect.objectContaining({ outcome: 'granted', status: 200, source: 'memory', subject }),
    ]);
  });

  it('a JWT that fails a local check is refused 401 jwt_invalid, source jwt', async () => {
    // Another audience: the API of another project would accept it, this one must not.
    const app = appWith(local({ jwt: { verify: 'local' }, projectId: 'another-project' }));
    const before = (await z.calls()).introspection;
    await request(app).get('/me').set(bearer(jwt)).expect(401);
    expect(authenticateEvents()).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        status: 401,
        reason: 'jwt_invalid',
        source: 'jwt',
      }),
    ]);
    expect((await z.calls()).introspection).toBe(before);
  });
});

describeWithRedis('the fleet', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await z.setLatency(0);
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  it('a replica that waited for another replica’s call is source peer; one call for both', async () => {
    const store = () => {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return new RedisStore(client, { prefix: 'telemetry-peer:' });
    };
    const apps = [0, 1].map(() => local({ cache: { store: store(), storeTimeoutMs: 1000 } }));
    await Promise.all(apps.map((auth) => auth.introspector.ready()));
    const source = await serviceUserTokenSource({
      issuer: z.issuer,
      key: (await z.createServiceUser({ name: 'peer-reader', auth: 'key' })).keyPath,
      scope: projectScopes(z.projectId),
    });
    const token = await source.getToken();
    await z.setLatency(400);
    await z.resetCalls();
    await Promise.all(
      apps.map((auth) => request(appWith(auth)).get('/me').set(bearer(token)).expect(200)),
    );
    expect((await z.calls()).introspection).toBe(1);
    expect(
      authenticateEvents()
        .map((event) => event.source)
        .sort(),
    ).toEqual(['introspection', 'peer']);
  });
});
