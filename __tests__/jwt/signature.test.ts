/**
 * The signature and claim checks of the local path, done with jose's
 * flattenedVerify against keys imported once per kid (lib/zitadel/jws-signature.ts):
 * every allowed alg verifies, and each of jose's key-selection rules refuses.
 */
import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import type { JWK } from 'jose';
import { ASYMMETRIC_ALGORITHMS } from '../../lib/jwt/jwt-options';
import { importPublicKey, keyFits, verifySignature } from '../../lib/zitadel/jws-signature';
import { localJwtTests } from './support/local-jwt-tests';

let clock: number;
beforeEach(() => {
  clock = Date.now();
});
const { z, make } = localJwtTests({
  now: () => clock,
  jwt: { verify: 'local', revalidateSeconds: 0 },
});

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token signed by a node:crypto key published under `kid` as `jwk`. */
function handSigned(
  key: KeyObject,
  jwk: JWK,
  alg: string,
  claims: Record<string, unknown> = {},
  extraHeader: Record<string, unknown> = {},
): string {
  const now = Math.floor(clock / 1000);
  const header = b64({ alg, kid: jwk.kid, ...extraHeader });
  const payload = b64({
    iss: z.issuer,
    sub: 'svc-1',
    aud: [z.projectId],
    exp: now + 600,
    iat: now,
    jti: 'j-1',
    client_id: 'svc-1',
    ...claims,
  });
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const options = alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' as const } : { key };
  const signature = sign(hash, Buffer.from(`${header}.${payload}`), options);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

function publish(jwk: JWK) {
  z.keys = [{ kid: jwk.kid!, alg: jwk.alg ?? 'ES256', privateKey: undefined as never, jwk }];
}

const failed = (check: string) => ({
  active: false,
  reason: 'invalid',
  description: `the access token failed local verification: ${check}`,
});

describe('every allowed alg verifies locally, without a call', () => {
  it.each(ASYMMETRIC_ALGORITHMS)('%s', async (alg) => {
    await z.rotate(alg);
    const info = await make().introspect(await z.mint());
    expect(info).toMatchObject({ active: true, auth: { source: 'jwt' } });
    expect(z.introspections).toHaveLength(0);
  });
});

describe("the key of the kid must fit the alg (jose's rules for a JWKS)", () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecJwk = (extra: Partial<JWK> = {}): JWK => ({
    ...(ec.publicKey.export({ format: 'jwk' }) as JWK),
    kid: 'k-ec',
    ...extra,
  });

  it.each([
    ['use enc', { use: 'enc' }],
    ['key_ops without verify', { key_ops: ['sign'] }],
    ['another alg named', { alg: 'ES384' }],
    ['ext not a boolean', { ext: 'yes' as never }],
  ])('%s → 401, no call', async (_name, extra) => {
    publish(ecJwk(extra));
    const info = await make().introspect(handSigned(ec.privateKey, ecJwk(), 'ES256'));
    expect(info).toEqual(failed('no key of that kid for that alg'));
    expect(z.introspections).toHaveLength(0);
  });

  it('the matching JWK verifies (the cases above are not refused for another reason)', async () => {
    publish(ecJwk({ use: 'sig', key_ops: ['verify'], alg: 'ES256', ext: true }));
    expect((await make().introspect(handSigned(ec.privateKey, ecJwk(), 'ES256'))).active).toBe(
      true,
    );
  });

  it('a P-384 key for ES256 → 401', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const jwk = { ...(p384.publicKey.export({ format: 'jwk' }) as JWK), kid: 'k-384' };
    publish(jwk);
    const token = handSigned(p384.privateKey, jwk, 'ES256');
    expect(await make().introspect(token)).toEqual(failed('no key of that kid for that alg'));
  });

  it('an RSA key below 2048 bits → 401, though the signature is right', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as JWK), kid: 'k-1024' };
    publish(jwk);
    const token = handSigned(rsa.privateKey, jwk, 'RS256');
    expect(await make().introspect(token)).toEqual(failed('no key of that kid for that alg'));
  });

  it('a JWKS member carrying private key material is never used', async () => {
    const jwk = { ...(ec.privateKey.export({ format: 'jwk' }) as JWK), kid: 'k-private' };
    publish(jwk);
    const token = handSigned(ec.privateKey, jwk, 'ES256');
    expect(await make().introspect(token)).toEqual(failed('no key of that kid for that alg'));
    expect(importPublicKey(jwk)).toBeUndefined();
  });

  it('a JWK that does not import (a broken key) → 401', async () => {
    const jwk = { ...ecJwk(), x: 'AAAA' };
    publish(jwk);
    const token = handSigned(ec.privateKey, ecJwk(), 'ES256');
    expect(await make().introspect(token)).toEqual(failed('no key of that kid for that alg'));
  });
});

describe('malformed tokens and signatures', () => {
  it('an ECDSA signature in DER form (not r ‖ s) → 401 signature', async () => {
    const [header, payload] = (await z.mint()).split('.');
    const key = z.keys[0];
    const rs = sign('sha256', Buffer.from(`${header}.${payload}`), {
      key: KeyObject.from(key.privateKey as never),
      dsaEncoding: 'ieee-p1363',
    });
    // The right r ‖ s, re-encoded as DER: longer, and must not verify.
    const r = rs.subarray(0, 32);
    const s = rs.subarray(32);
    const int = (b: Buffer) => (b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
    const body = Buffer.concat([
      Buffer.from([2, int(r).length]),
      int(r),
      Buffer.from([2, int(s).length]),
      int(s),
    ]);
    const asDer = Buffer.concat([Buffer.from([0x30, body.length]), body]);
    const info = await make().introspect(`${header}.${payload}.${asDer.toString('base64url')}`);
    expect(info).toEqual(failed('signature'));
  });

  it('a crit header (an extension nobody here understands) → 401 malformed', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(ec.publicKey.export({ format: 'jwk' }) as JWK), kid: 'k-crit' };
    publish(jwk);
    const introspector = make();
    expect((await introspector.introspect(handSigned(ec.privateKey, jwk, 'ES256'))).active).toBe(
      true,
    );
    const token = handSigned(ec.privateKey, jwk, 'ES256', {}, { crit: ['exp2'], exp2: 1 });
    expect(await introspector.introspect(token)).toEqual(failed('malformed'));
  });

  it('a segment of 4n + 1 characters (not base64url) → 401 malformed', async () => {
    // Pad a claim until the payload segment is 4n long; one more character makes it 4n + 1.
    let token = '';
    for (let pad = 0; pad < 4; pad++) {
      token = await z.mint({ pad: 'x'.repeat(pad) });
      if (token.split('.')[1].length % 4 === 0) break;
    }
    const [header, payload, signature] = token.split('.');
    expect((await make().introspect(token)).active).toBe(true);
    const info = await make().introspect(`${header}.${payload}A.${signature}`);
    expect(info).toEqual(failed('malformed'));
  });

  it('a payload that is not UTF-8 → 401 malformed', async () => {
    const [header, , signature] = (await z.mint()).split('.');
    const bytes = Buffer.concat([
      Buffer.from(`{"iss":"${z.issuer}","x":"`),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    const info = await make().introspect(`${header}.${bytes.toString('base64url')}.${signature}`);
    expect(info).toEqual(failed('malformed'));
  });

  it('verifySignature never rejects and refuses what node:crypto cannot check', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const zeros = (bytes: number) => Buffer.alloc(bytes).toString('base64url');
    expect(await verifySignature('HS256', ec.publicKey, 'a.b', zeros(32))).toBe(false);
    expect(await verifySignature('ES256', ec.publicKey, 'a.b', zeros(64))).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // An EC key where RSA is asked for: node:crypto throws, the answer is false.
    expect(await verifySignature('RS256', ec.publicKey, 'a.b', zeros(256))).toBe(false);
    expect(await verifySignature('PS256', rsa.publicKey, 'a.b', zeros(256))).toBe(false);
    const jwk = rsa.publicKey.export({ format: 'jwk' }) as JWK;
    expect(keyFits(jwk, rsa.publicKey, 'HS256')).toBe(false);
    expect(keyFits({ ...jwk, kty: 'EC' }, rsa.publicKey, 'ES256')).toBe(false);
    expect(importPublicKey({ kty: 'oct', k: 'c2VjcmV0' })).toBeUndefined();
  });
});

describe("the time claims, as jose's jwtVerify checked them", () => {
  it.each([
    ['iat', 'iat invalid'],
    ['nbf', 'nbf invalid'],
    ['exp', 'exp invalid'],
  ])('%s not a number → 401 %s', async (claim, check) => {
    const info = await make().introspect(await z.mint({ [claim]: 'soon' }));
    expect(info).toEqual(failed(check));
  });

  it('exp at now − tolerance is expired, one second later it is not', async () => {
    const now = Math.floor(clock / 1000);
    const introspector = make({ clockToleranceSeconds: 5 });
    expect(await introspector.introspect(await z.mint({ exp: now - 5 }))).toEqual(
      failed('expired'),
    );
    expect((await introspector.introspect(await z.mint({ exp: now - 4 }))).active).toBe(true);
  });

  it('nbf and iat within the tolerance are accepted; beyond it ZITADEL decides', async () => {
    const now = Math.floor(clock / 1000);
    const introspector = make({ clockToleranceSeconds: 5 });
    expect(
      (await introspector.introspect(await z.mint({ nbf: now + 5, iat: now + 5 }))).active,
    ).toBe(true);
    expect(z.introspections).toHaveLength(0);
    const later = await z.mint({ nbf: now + 6 });
    await introspector.introspect(later);
    expect(z.introspections).toEqual([later]);
  });
});
