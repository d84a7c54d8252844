import type { FleetHooks } from '../../lib/cache/fleet-hooks';
import { createLocalVerification, type LocalWiring } from '../../lib/jwt/local-verification';
import { createProcessMemory } from '../../lib/jwt/process-memory';
import { createRevalidation } from '../../lib/jwt/revalidation';
import { resolveOptions } from '../../lib/options';
import { newSigningKey, startJwtIssuer, type JwtIssuer } from './support/jwt-issuer';

describe('process memory', () => {
  it('keeps names for their ttl, claims once, and drops the oldest beyond the bound', async () => {
    let clock = 1000;
    const memory = createProcessMemory({ maxEntries: 2, now: () => clock });
    await memory.set('a', '1', 100);
    expect(await memory.get('a')).toBe('1');
    clock += 101;
    expect(await memory.get('a')).toBeUndefined();
    expect(await memory.claim('c', 100)).toBe(true);
    expect(await memory.claim('c', 100)).toBe(false);
    await memory.set('d', '4', 100);
    await memory.set('e', '5', 100);
    expect(await memory.get('c')).toBeUndefined();
    expect(await memory.get('e')).toBe('5');
    await memory.delete('e');
    expect(await memory.get('e')).toBeUndefined();
    await memory.set('f', '6', 0);
    expect(await memory.get('f')).toBeUndefined();
  });
});

describe('revalidation schedule', () => {
  it('forgets an expired token and stops its timer; one replica per due time makes the call', async () => {
    let clock = 0;
    const memory = createProcessMemory({ maxEntries: 100, now: () => clock });
    const calls: string[] = [];
    const make = () =>
      createRevalidation({
        everyMs: 1000,
        memory,
        now: () => clock,
        maxTracked: 1,
        introspect: async (key) => {
          calls.push(key);
          return { active: true };
        },
        onInactive: async () => {},
      });
    const [a, b] = [make(), make()];
    a.accepted({ jti: 'j1', key: 'k1', token: 't1', expMs: 5000 });
    b.accepted({ jti: 'j1', key: 'k1', token: 't1', expMs: 5000 });
    await new Promise((resolve) => setImmediate(resolve));
    clock = 1001;
    await Promise.all([a.sweep(), b.sweep()]);
    // Both replicas share one memory: one call for the due time.
    expect(calls).toEqual(['k1']);
    expect(a.count() + b.count()).toBe(1);
    clock = 6000;
    await a.sweep();
    await b.sweep();
    expect(calls).toEqual(['k1']);
    a.close();
    b.close();
    // After close(), nothing is tracked any more.
    a.accepted({ jti: 'j2', key: 'k2', token: 't2', expMs: 99_000 });
    clock = 9000;
    await a.sweep();
    expect(calls).toEqual(['k1']);
  });

  it('keeps the newest spelling of a tracked jti and bounds the tracked tokens', async () => {
    let clock = 0;
    const memory = createProcessMemory({ maxEntries: 100, now: () => clock });
    const calls: string[] = [];
    const revalidation = createRevalidation({
      everyMs: 1000,
      memory,
      now: () => clock,
      maxTracked: 1,
      introspect: async (_key, token) => {
        calls.push(token);
        return { active: true };
      },
      onInactive: async () => {},
    });
    revalidation.accepted({ jti: 'j1', key: 'k1', token: 'old', expMs: 50_000 });
    await new Promise((resolve) => setImmediate(resolve));
    revalidation.accepted({ jti: 'j1', key: 'k1', token: 'new', expMs: 50_000 });
    revalidation.accepted({ jti: 'j2', key: 'k2', token: 'other', expMs: 50_000 });
    await new Promise((resolve) => setImmediate(resolve));
    clock = 1001;
    await revalidation.sweep();
    // maxTracked 1: j1 (the oldest) made room for j2.
    expect(calls).toEqual(['other']);
    revalidation.close();
  });
});

describe('the fleet seam', () => {
  let z: JwtIssuer;
  beforeEach(async () => {
    z = await startJwtIssuer();
  });
  afterEach(() => z.close());

  function local(fleet?: FleetHooks, extra: Partial<LocalWiring> = {}) {
    const config = resolveOptions({
      issuer: z.issuer,
      clientId: z.clientId,
      clientSecret: z.clientSecret,
      projectId: z.projectId,
      jwt: { verify: 'local', revalidateSeconds: 0 },
    });
    const abort = new AbortController();
    const verification = createLocalVerification(config, {
      signal: abort.signal,
      metadata: async () => ({
        issuer: z.issuer,
        introspectionEndpoint: `${z.issuer}/oauth/v2/introspect`,
        jwksUri: `${z.issuer}/oauth/v2/keys`,
      }),
      clientId: async () => z.clientId,
      remember: async () => {},
      introspect: async () => ({ active: true }),
      fleet: fleet && (() => fleet),
      ...extra,
    });
    return { verification, close: () => (abort.abort(), verification.close()) };
  }

  function hooks(
    covered: (token: { jti: string; subject: string; issuedAtMs: number }) => boolean,
  ) {
    const seen: { jti: string; subject: string; issuedAtMs: number }[] = [];
    const memory = createProcessMemory({ maxEntries: 100, now: Date.now });
    const fleet: FleetHooks = {
      projectId: z.projectId,
      evictSession: async () => {},
      sharedMemory: () => memory,
      evictedAfter: async (token) => {
        seen.push(token);
        return covered(token);
      },
    };
    return { fleet, seen };
  }

  it('asks evictedAfter with the jti, subject and iat of a verified token; covered → introspect', async () => {
    const { fleet, seen } = hooks((token) => token.subject === 'evicted-user');
    const { verification, close } = local(fleet);
    const iat = Math.floor(Date.now() / 1000) - 10;
    const kept = await verification.verify('k', await z.mint({ iat }));
    expect(kept).toMatchObject({ active: true });
    expect(seen[0]).toEqual({ jti: expect.any(String), subject: 'svc-1', issuedAtMs: iat * 1000 });
    expect(await verification.verify('k', await z.mint({ sub: 'evicted-user' }))).toBeUndefined();
    expect(verification.stats().localVerifications).toBe(1);
    close();
  });

  it('a token without sub or iat is asked about as subject "" issued at 0', async () => {
    const { fleet, seen } = hooks(() => false);
    const { verification, close } = local(fleet);
    await verification.verify('k', await z.mint({}, { omit: ['sub', 'iat'] }));
    expect(seen[0]).toMatchObject({ subject: '', issuedAtMs: 0 });
    close();
  });

  it('a kid whose key is of another type than the alg → 401, no call', async () => {
    const { verification, close } = local();
    const ec = z.keys[0];
    const rsa = await newSigningKey('RS256');
    // The JWKS publishes an RSA key under the kid the ES256 token names.
    z.keys = [{ ...rsa, kid: ec.kid, jwk: { ...rsa.jwk, kid: ec.kid } }];
    const token = await z.mint({}, { key: ec });
    expect(await verification.verify('k', token)).toMatchObject({
      active: false,
      description: expect.stringMatching(/no key of that kid for that alg$/),
    });
    close();
  });
});
