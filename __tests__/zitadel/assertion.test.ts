import { decodeProtectedHeader, jwtVerify } from 'jose';
import { signClientAssertion, signJwtBearerAssertion } from '../../lib/zitadel/assertion';
import { loadKeyFile, type ServiceAccountKey } from '../../lib/zitadel/key-file';
import { ecKey, rsaPkcs1 } from './helpers';

const issuer = 'https://acme-4tbz9q.zitadel.cloud';
const rsa = rsaPkcs1();
const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const nowSeconds = Math.floor(now / 1000);

async function appKey(pem: string) {
  return loadKeyFile(
    { type: 'application', keyId: 'kid-1', key: pem, appId: 'app-1', clientId: 'client@billing' },
    'application',
  );
}

describe('signClientAssertion', () => {
  it('signs iss = sub = clientId, aud = issuer, iat = now - 5 s, exp = now + 60 s', async () => {
    const key = await appKey(rsa.pem);
    const jwt = await signClientAssertion(key, key.clientId, issuer, now);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', kid: 'kid-1' });
    const { payload } = await jwtVerify(jwt, rsa.publicKey, {
      issuer: 'client@billing',
      subject: 'client@billing',
      audience: issuer,
      currentDate: new Date(now),
    });
    expect(payload.aud).toBe(issuer);
    expect(payload.iat).toBe(nowSeconds - 5);
    expect(payload.exp).toBe(nowSeconds + 60);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('uses the clock by default and a fresh jti on every call', async () => {
    const key = await appKey(rsa.pem);
    const before = Math.floor(Date.now() / 1000);
    const jwts = await Promise.all(
      Array.from({ length: 20 }, () => signClientAssertion(key, key.clientId, issuer)),
    );
    const payloads = await Promise.all(
      jwts.map(async (j) => (await jwtVerify(j, rsa.publicKey)).payload),
    );
    expect(new Set(payloads.map((p) => p.jti)).size).toBe(20);
    for (const p of payloads) {
      expect(p.iat).toBeGreaterThanOrEqual(before - 5);
      expect(p.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    }
  });

  it('signs with an EC key and its alg', async () => {
    const ec = ecKey('P-384');
    const key = await appKey(ec.pem);
    const jwt = await signClientAssertion(key, 'c', issuer, now);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES384', kid: 'kid-1' });
    await expect(
      jwtVerify(jwt, ec.publicKey, { currentDate: new Date(now) }),
    ).resolves.toBeDefined();
  });
});

describe('signJwtBearerAssertion', () => {
  it('signs iss = sub = userId, aud = issuer, iat = now - 5 s, exp = now + 5 min', async () => {
    const key: ServiceAccountKey = await loadKeyFile(
      { type: 'serviceaccount', keyId: 'kid-2', key: rsa.pem, userId: 'user-9' },
      'serviceaccount',
    );
    const first = await signJwtBearerAssertion(key, issuer, now);
    const second = await signJwtBearerAssertion(key, issuer);
    expect(decodeProtectedHeader(first)).toEqual({ alg: 'RS256', kid: 'kid-2' });
    const { payload } = await jwtVerify(first, rsa.publicKey, {
      issuer: 'user-9',
      subject: 'user-9',
      audience: issuer,
      currentDate: new Date(now),
    });
    expect(payload.iat).toBe(nowSeconds - 5);
    expect(payload.exp).toBe(nowSeconds + 300);
    const { payload: other } = await jwtVerify(second, rsa.publicKey);
    expect(other.jti).not.toBe(payload.jti);
  });
});
