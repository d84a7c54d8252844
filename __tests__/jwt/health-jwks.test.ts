/**
 * `health().jwks` with local verification on the test kit: keys and the
 * set's age, `ok` false until a set is there (and again once the last good
 * set is past its 24 h while the keys endpoint fails), a rotated key counted
 * after the refetch it causes; no `jwks` part in introspect mode.
 */
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import type { ZitadelAuthOptions } from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { audienceScope, keyUserToken, ROLES_SCOPE } from '../testing/local-zitadel-helpers';

let z: LocalZitadel;
const open: ZitadelAuthMiddleware[] = [];
let clock = Date.now();

beforeAll(async () => {
  z = await startLocalZitadel();
}, 60_000);
afterAll(() => z?.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((auth) => auth.introspector.close()));
  await z.clearFaults();
});

function introspector(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    projectId: z.projectId,
    jwt: { verify: 'local' },
    now: () => clock,
    ...options,
  } as ZitadelAuthOptions);
  open.push(auth);
  return auth.introspector;
}

it('no keys and not ok before ready(); the set and its age after, ok', async () => {
  clock = Date.now();
  const local = introspector();
  expect(local.health().jwks).toEqual({ keys: 0, ageSeconds: 0 });
  expect(local.health().ok).toBe(false);
  await local.ready();
  const keys = local.health().jwks!.keys;
  expect(keys).toBeGreaterThanOrEqual(1);
  expect(local.health()).toMatchObject({ ok: true, jwks: { keys, ageSeconds: 0 } });
  clock += 90_000;
  expect(local.health().jwks).toEqual({ keys, ageSeconds: 90 });
});

it('a rotated signing key is counted once a token of it made the set refetch', async () => {
  clock = Date.now();
  const local = introspector();
  await local.ready();
  const before = local.health().jwks!.keys;
  await z.rotateSigningKey();
  const user = await z.createServiceUser({
    name: `health-jwks-${Date.now()}`,
    auth: 'key',
    accessTokenType: 'jwt',
  });
  const token = await keyUserToken(
    z,
    user.keyFile!,
    `openid ${audienceScope(z.projectId)} ${ROLES_SCOPE}`,
  );
  expect(await local.introspect(token)).toMatchObject({ active: true });
  expect(local.health().jwks!.keys).toBe(before + 1);
});

it('the keys endpoint down: the last good set serves 24 h, then keys 0 and not ok', async () => {
  clock = Date.now();
  const local = introspector();
  await local.ready();
  await z.injectFault({ status: 500 }, { endpoint: 'keys' });
  clock += 23 * 3600_000;
  expect(local.health()).toMatchObject({ ok: true, jwks: { ageSeconds: 23 * 3600 } });
  clock += 2 * 3600_000;
  expect(local.health()).toMatchObject({ ok: false, jwks: { keys: 0 } });
});

it('introspect mode has no jwks part', async () => {
  const remote = introspector({ jwt: { verify: 'introspect' } } as Partial<ZitadelAuthOptions>);
  await remote.ready();
  expect(remote.health()).not.toHaveProperty('jwks');
  expect(remote.health().ok).toBe(true);
});
