/**
 * Revocation lag, measured against the local ZITADEL: a token revoked at
 * ZITADEL stays granted from the cache for at most `maxTtlSeconds`;
 * `evict(token)` ends that at once on the instance that calls it and in the
 * shared store, but not in other instances' memory tiers (store-only
 * instances, `maxEntries: 0`, have none). A token is never granted from the
 * cache past its `exp`.
 */
import {
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib/express/middleware';
import type { CacheStore } from '../../lib/cache/result-cache';
import { serviceUserTokenSource } from '../../lib/zitadel/service-user';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { bearer, createClient, startApp, type TestApp } from './support/app';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';

let z: LocalZitadel;
const client = createClient();
const built: Array<{ auth: ZitadelAuthMiddleware; app: TestApp }> = [];
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  z = await startLocalZitadel({ accessTokenTtlSeconds: 3 });
});

afterAll(async () => {
  await Promise.all(built.map(({ auth }) => auth.introspector.close()));
  await Promise.all(built.map(({ app }) => app.close()));
  client.close();
  await z?.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

async function instance(options: Partial<ZitadelAuthOptions>) {
  const auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyFile, ...options });
  const app = await startApp(auth);
  built.push({ auth, app });
  const status = async (token: string) =>
    (await client.get(`${app.url}/api/whoami`, bearer(token))).status;
  return { auth, status };
}

async function patUser(name: string) {
  const user = await z.createServiceUser({ name, roles: { reader: ['o'] }, auth: 'pat' });
  return { token: user.pat!, userId: user.userId };
}

/** Revokes at ZITADEL's revocation endpoint, as the token's own client. */
async function revoke(user: { token: string; userId: string }) {
  const response = await fetch(`${z.issuer}/oauth/v2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: user.token, client_id: user.userId }),
  });
  expect(response.status).toBe(200);
}

it('grants a revoked token from the cache for at most maxTtlSeconds; evict() ends it at once', async () => {
  const user = await patUser('revoked-1');
  const uncached = await instance({ cache: false });
  const a = await instance({ cache: { maxTtlSeconds: 2 } });
  const b = await instance({ cache: { maxTtlSeconds: 2 } });
  expect([await uncached.status(user.token), await a.status(user.token)]).toEqual([200, 200]);
  expect(await b.status(user.token)).toBe(200);
  const cachedAt = Date.now();

  await revoke(user);
  expect(await uncached.status(user.token)).toBe(401);
  // The lag: the cached grant still holds.
  expect([await a.status(user.token), await b.status(user.token)]).toEqual([200, 200]);
  await a.auth.introspector.evict(user.token);
  expect(await a.status(user.token)).toBe(401);

  while ((await b.status(user.token)) === 200) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(Date.now() - cachedAt).toBeLessThan(2000 + 1000);
});

it('evict() on one instance clears the shared store, not another instance’s memory tier', async () => {
  const user = await patUser('revoked-2');
  const shared = mapStore();
  const storeOnly = await instance({ cache: { maxEntries: 0, store: shared } });
  const withMemory = await instance({ cache: { store: shared } });
  const otherStoreOnly = await instance({ cache: { maxEntries: 0, store: shared } });
  expect(await storeOnly.status(user.token)).toBe(200);
  expect(await withMemory.status(user.token)).toBe(200);
  expect(await otherStoreOnly.status(user.token)).toBe(200);
  expect(storeOnly.auth.introspector.stats().misses).toBe(1);
  expect(otherStoreOnly.auth.introspector.stats().hits).toBe(1);

  await revoke(user);
  await storeOnly.auth.introspector.evict(user.token);
  expect(await storeOnly.status(user.token)).toBe(401);
  expect(await otherStoreOnly.status(user.token)).toBe(401);
  // Its own memory tier still holds the grant: only its own evict() (or the TTL) ends it.
  expect(await withMemory.status(user.token)).toBe(200);
  await withMemory.auth.introspector.evict(user.token);
  expect(await withMemory.status(user.token)).toBe(401);
});

it('never grants from the cache past the token’s exp', async () => {
  const keyUser = await z.createServiceUser({ name: 'short-lived', auth: 'key' });
  const token = await serviceUserTokenSource({
    issuer: z.issuer,
    key: keyUser.keyFile,
    scope: ['openid', `urn:zitadel:iam:org:project:id:${z.projectId}:aud`],
  }).getToken();
  // exp = iat + 3 s, and iat is at latest now.
  const expiresBy = Date.now() + 3000;
  const cached = await instance({ clockToleranceSeconds: 0 });
  const granted: number[] = [];
  while (Date.now() < expiresBy + 1500) {
    if ((await cached.status(token)) === 200) granted.push(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(granted.length).toBeGreaterThan(5);
  expect(Math.max(...granted)).toBeLessThan(expiresBy + 300);
  // One call for the grant (then cache hits until exp), one after it: inactive.
  expect(cached.auth.introspector.stats().misses).toBe(2);
});

/** A shared store in this process (what a Redis would be across instances). */
function mapStore(): CacheStore {
  const map = new Map<string, string>();
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => void map.set(key, value),
    delete: async (key) => void map.delete(key),
  };
}
