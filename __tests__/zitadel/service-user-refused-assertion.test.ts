/**
 * ZITADEL answers a refused JWT-bearer assertion with 500 server_error
 * Errors.Internal (zitadel#12692); the token source's TokenRequestError keeps
 * ZITADEL's fields and says what it usually means. Against the local ZITADEL,
 * which answers as ZITADEL does.
 */
import { TokenRequestError } from '../../lib/errors';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { serviceUserTokenSource } from '../../lib/zitadel/service-user';
import { isRefusedAssertion, REFUSED_ASSERTION_HINT } from '../../lib/zitadel/refused-assertion';

let z: LocalZitadel;
beforeAll(async () => {
  z = await startLocalZitadel();
});
afterAll(() => z?.close());

it('a key file whose key is not this service user’s → TokenRequestError with the hint', async () => {
  const [owner, other] = await Promise.all([
    z.createServiceUser({ name: 'key-owner', auth: 'key' }),
    z.createServiceUser({ name: 'someone-else', auth: 'key' }),
  ]);
  const key = { ...owner.keyFile!, userId: other.userId };
  const error = await serviceUserTokenSource({ issuer: z.issuer, key })
    .getToken()
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TokenRequestError);
  expect(error).toMatchObject({
    status: 500,
    error: 'server_error',
    errorDescription: 'Errors.Internal',
  });
  expect((error as Error).message).toBe(
    `token request failed (HTTP 500): server_error: Errors.Internal - ${REFUSED_ASSERTION_HINT}`,
  );
  expect(isRefusedAssertion(error as TokenRequestError)).toBe(true);
  expect(isRefusedAssertion(new TokenRequestError(500, 'server_error', 'Errors.Internal'))).toBe(
    false,
  );
});

it('a removed user’s key and a 500 to client credentials: the hint only for the JWT-bearer grant', async () => {
  const removed = await z.createServiceUser({ name: 'removed-key-user', auth: 'key' });
  await z.removeUser(removed.userId);
  const refused: unknown = await serviceUserTokenSource({ issuer: z.issuer, key: removed.keyFile! })
    .getToken()
    .catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(TokenRequestError);
  expect((refused as Error).message).toContain(REFUSED_ASSERTION_HINT);

  const secretUser = await z.createServiceUser({ name: 'cc-500', auth: 'secret' });
  await z.injectFault(
    { status: 500, body: { error: 'server_error', error_description: 'Errors.Internal' } },
    { endpoint: 'token', times: 1 },
  );
  const outage: unknown = await serviceUserTokenSource({
    issuer: z.issuer,
    clientId: secretUser.clientId!,
    clientSecret: secretUser.clientSecret!,
  })
    .getToken()
    .catch((e: unknown) => e);
  expect(outage).toMatchObject({ status: 500, errorDescription: 'Errors.Internal' });
  expect((outage as Error).message).not.toContain(REFUSED_ASSERTION_HINT);
});
