import { localJwtTests } from './support/local-jwt-tests';

const { z, make } = localJwtTests({ jwt: { verify: 'local', revalidateSeconds: 1 } });

/** Polls until `check` holds; generous, the machine is loaded. */
async function eventually(check: () => boolean, timeoutMs = 8000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rolesClaim = () => `urn:zitadel:iam:org:project:${z.projectId}:roles`;

describe('revalidation', () => {
  it('a revocation is caught within revalidateSeconds, and the jti stays introspected', async () => {
    const introspector = make({ cache: { inactiveTtlSeconds: 0 } });
    const token = await z.mint();
    expect((await introspector.introspect(token)).active).toBe(true);
    expect(z.introspections).toHaveLength(0);
    z.revoked.add(token);
    await eventually(() => z.introspections.length === 1);
    expect(introspector.stats().revalidations).toBe(1);
    // Until the answer lands the cached local decision answers (no call); then it is gone.
    let info = await introspector.introspect(token);
    for (let i = 0; i < 80 && info.active; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      info = await introspector.introspect(token);
    }
    expect(info).toEqual({ active: false, reason: 'inactive' });
    // No more local acceptance for that jti: each use asks ZITADEL (inactive answers not cached here).
    const calls = z.introspections.length;
    expect(await introspector.introspect(token)).toEqual({ active: false, reason: 'inactive' });
    expect(z.introspections).toHaveLength(calls + 1);
    expect(introspector.stats().localVerifications).toBe(1);
  });

  it('an active answer replaces the cached AuthInfo: a role change lands', async () => {
    const introspector = make();
    const token = await z.mint();
    const before = await introspector.introspect(token);
    expect(before.active && before.auth.hasRole('admin')).toBe(false);
    z.introspectionClaims.set(token, { [rolesClaim()]: { admin: { 'org-1': 'acme.localhost' } } });
    await eventually(() => introspector.stats().revalidations >= 1);
    await eventually(() => introspector.stats().introspections >= 1);
    // The answer lands in the cache just after the call: poll the cached AuthInfo.
    let after = await introspector.introspect(token);
    for (let i = 0; i < 40 && !(after.active && after.auth.hasRole('admin')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await introspector.introspect(token);
    }
    expect(after.active && after.auth.hasRole('admin')).toBe(true);
    expect(after.active && after.auth.source).toBe('introspection');
    expect(introspector.stats().localVerifications).toBe(1);
  });

  it('repeats every revalidateSeconds', async () => {
    const introspector = make();
    await introspector.introspect(await z.mint());
    await eventually(() => z.introspections.length >= 2, 10_000);
    expect(introspector.stats().revalidations).toBeGreaterThanOrEqual(2);
  });

  it('an outage leaves the local decision standing', async () => {
    const introspector = make();
    const token = await z.mint();
    await introspector.introspect(token);
    z.introspectionFault = 503;
    await eventually(() => z.introspections.length >= 1);
    await eventually(() => introspector.stats().errors >= 1);
    const info = await introspector.introspect(token);
    expect(info.active && info.auth.source).toBe('jwt');
  });

  it('defaults to cache.maxTtlSeconds', async () => {
    const introspector = make({ cache: { maxTtlSeconds: 1 }, jwt: { verify: 'local' } });
    const token = await z.mint();
    await introspector.introspect(token);
    z.revoked.add(token);
    await eventually(() => z.introspections.length >= 1);
    expect(introspector.stats().revalidations).toBeGreaterThanOrEqual(1);
  });

  it('revalidateSeconds: 0 never revalidates', async () => {
    const introspector = make({ jwt: { verify: 'local', revalidateSeconds: 0 } });
    await introspector.introspect(await z.mint());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(z.introspections).toHaveLength(0);
    expect(introspector.stats().revalidations).toBe(0);
  });

  it('the due time is kept outside the cache entry: an expired entry does not restart the clock', async () => {
    let clock = Date.now();
    const introspector = make({
      now: () => clock,
      cache: { maxTtlSeconds: 60 },
      jwt: { verify: 'local', revalidateSeconds: 100 },
    });
    const token = await z.mint();
    await introspector.introspect(token);
    clock += 70_000; // the cache entry expired at +60 s
    expect((await introspector.introspect(token)).active).toBe(true);
    expect(introspector.stats().localVerifications).toBe(2);
    clock += 31_000; // +101 s after the first acceptance, +31 s after the second
    await eventually(() => z.introspections.length === 1);
    expect(introspector.stats().revalidations).toBe(1);
  });
});

describe('evictions in local mode', () => {
  it('evict(token) sends the jti to introspection at once, in any spelling', async () => {
    const introspector = make({ jwt: { verify: 'local', revalidateSeconds: 0 } });
    const token = await z.mint();
    expect((await introspector.introspect(token)).active).toBe(true);
    await introspector.evict(token);
    expect(await introspector.introspect(token)).toMatchObject({ active: true });
    expect(z.introspections).toEqual([token]);
    // ES256: 64 signature bytes in 86 characters, the last one carries 2 unused bits.
    const respelled = withOtherTrailingBits(token);
    expect(Buffer.from(respelled.split('.')[2], 'base64url')).toEqual(
      Buffer.from(token.split('.')[2], 'base64url'),
    );
    await introspector.introspect(respelled);
    expect(z.introspections).toEqual([token, respelled]);
    expect(introspector.stats().localVerifications).toBe(1);
  });
});

describe('fleet evictions in local mode', () => {
  it('evictSubject(sub): that subject’s JWTs issued before are introspected, others stay local', async () => {
    const introspector = make({ jwt: { verify: 'local', revalidateSeconds: 0 } });
    const iat = Math.floor(Date.now() / 1000) - 5;
    const sam = await z.mint({ sub: 'sam', iat });
    const kim = await z.mint({ sub: 'kim', iat });
    await introspector.introspect(sam);
    await introspector.introspect(kim);
    await introspector.evictSubject('sam');
    const samAgain = await z.mint({ sub: 'sam', iat });
    const kimAgain = await z.mint({ sub: 'kim', iat });
    expect((await introspector.introspect(sam)).active).toBe(true);
    expect((await introspector.introspect(samAgain)).active).toBe(true);
    expect((await introspector.introspect(kimAgain)).active).toBe(true);
    expect(z.introspections).toEqual([sam, samAgain]);
  });

  it('evictAll(): every JWT issued before is introspected', async () => {
    const introspector = make({ jwt: { verify: 'local', revalidateSeconds: 0 } });
    const iat = Math.floor(Date.now() / 1000) - 5;
    const token = await z.mint({ iat });
    await introspector.introspect(token);
    await introspector.evictAll();
    const other = await z.mint({ sub: 'someone-else', iat });
    await introspector.introspect(token);
    await introspector.introspect(other);
    expect(z.introspections).toEqual([token, other]);
    // A token issued after the eviction is trusted again.
    const fresh = await z.mint({ iat: Math.floor(Date.now() / 1000) + 2 });
    expect((await introspector.introspect(fresh)).active).toBe(true);
    expect(z.introspections).toEqual([token, other]);
    expect(introspector.stats().localVerifications).toBe(2);
  });
});

function withOtherTrailingBits(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = token.at(-1)!;
  return token.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
}
