/**
 * `req.auth.source` of a locally verified JWT is 'jwt' on every replica: the
 * store entry carries who decided it (a real redis-server, two replicas).
 */
import express from 'express';
import request from 'supertest';
import Redis from 'ioredis';
import { RedisStore, zitadelAuth } from '../../lib';
import { createIntrospector, type Introspector } from '../../lib/introspector';
import type { IntrospectorOptions } from '../../lib/options';
import { describeWithRedis, redisUrlOrStart, uniquePrefix } from '../helpers/redis-server';
import { startJwtIssuer, type JwtIssuer } from './support/jwt-issuer';

describeWithRedis('the source of a stored local verification', () => {
  let redis: { url: string; stop(): Promise<void> };
  let z: JwtIssuer;
  let prefix: string;
  const clients: Redis[] = [];
  const open: Introspector[] = [];

  beforeAll(async () => {
    redis = await redisUrlOrStart();
  });
  afterAll(() => redis.stop());
  beforeEach(async () => {
    z = await startJwtIssuer();
    prefix = uniquePrefix('jwt-source');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((i) => i.close()));
    clients.splice(0).forEach((client) => client.disconnect());
    await z.close();
  });

  function options(jwt: IntrospectorOptions['jwt']): IntrospectorOptions {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    clients.push(client);
    return {
      issuer: z.issuer,
      clientId: z.clientId,
      clientSecret: z.clientSecret,
      projectId: z.projectId,
      retries: 0,
      cache: { store: new RedisStore(client, { prefix }), storeTimeoutMs: 500 },
      jwt,
    } as IntrospectorOptions;
  }

  async function replica(
    jwt: IntrospectorOptions['jwt'] = { verify: 'local', revalidateSeconds: 0 },
  ) {
    const introspector = createIntrospector(options(jwt));
    await introspector.ready();
    open.push(introspector);
    return introspector;
  }

  it("a JWT verified on one replica is 'jwt' on the other, read from the store without a call", async () => {
    const [a, b] = [await replica(), await replica()];
    const token = await z.mint();
    const first = await a.introspect(token);
    expect(first.active && first.auth.source).toBe('jwt');
    const second = await b.introspect(token);
    expect(second.active).toBe(true);
    if (!second.active || !first.active) return;
    expect(second.auth.source).toBe('jwt');
    // The same req.auth as the verifying replica's: the payload, without the cache's `active`.
    expect(second.auth.claims).toEqual(first.auth.claims);
    expect(second.auth.claims.active).toBeUndefined();
    expect(second.auth.hasRole('reader', 'org-1')).toBe(true);
    // b read a's entry: it neither verified nor introspected.
    expect(b.stats()).toMatchObject({ localVerifications: 0, introspections: 0, hits: 1 });
    expect(z.introspections).toHaveLength(0);
  });

  it("through another replica's middleware: req.auth.source is 'jwt'", async () => {
    const a = await replica();
    const token = await z.mint();
    await a.introspect(token);
    const auth = zitadelAuth(options({ verify: 'local', revalidateSeconds: 0 }));
    open.push(auth.introspector);
    const app = express()
      .use(auth)
      .get('/', (req, res) => {
        res.json({ source: req.auth!.source });
      });
    const response = await request(app).get('/').auth(token, { type: 'bearer' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ source: 'jwt' });
    expect(auth.introspector.stats().localVerifications).toBe(0);
    expect(z.introspections).toHaveLength(0);
  });

  it("an entry without a source (an introspection answer, as every entry was before) reads as 'introspection'", async () => {
    const writer = await replica({ verify: 'introspect' });
    const reader = await replica();
    const token = await z.mint();
    const written = await writer.introspect(token);
    expect(written.active && written.auth.source).toBe('introspection');
    expect(z.introspections).toEqual([token]);
    const read = await reader.introspect(token);
    expect(read.active && read.auth.source).toBe('introspection');
    // Introspection claims as ZITADEL answered them, `active` included.
    expect(read.active && read.auth.claims.active).toBe(true);
    expect(reader.stats()).toMatchObject({ localVerifications: 0, introspections: 0, hits: 1 });
    expect(z.introspections).toEqual([token]);
  });
});
