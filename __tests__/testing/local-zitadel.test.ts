import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  audienceScope,
  clientCredentialsGrant,
  introspectWithKey,
  introspectWithSecret,
  isAlive,
  jwtBearerGrant,
  keyUserToken,
  RESOURCE_OWNER_SCOPE,
  ROLES_SCOPE,
  signAssertion,
  userClaims,
} from './local-zitadel-helpers';

const PROJECT_ID = '300000000000000042';
const ROLES = { reader: ['org-1'], admin: ['org-1', 'org-2'] };
const ROLE_CLAIM = {
  reader: { 'org-1': 'org-1.localhost' },
  admin: { 'org-1': 'org-1.localhost', 'org-2': 'org-2.localhost' },
};

let z: LocalZitadel;
let fullScope: string;

beforeAll(async () => {
  z = await startLocalZitadel({ projectId: PROJECT_ID });
  fullScope = `openid profile ${audienceScope(PROJECT_ID)} ${ROLES_SCOPE} ${RESOURCE_OWNER_SCOPE}`;
});
afterAll(() => z?.close());

describe('start-up', () => {
  it('serves discovery with ZITADEL paths and the JWT-bearer grant', async () => {
    const response = await fetch(`${z.issuer}/.well-known/openid-configuration`);
    const discovery = (await response.json()) as Record<string, unknown>;
    expect(z.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(discovery).toMatchObject({
      issuer: z.issuer,
      token_endpoint: `${z.issuer}/oauth/v2/token`,
      introspection_endpoint: `${z.issuer}/oauth/v2/introspect`,
      jwks_uri: `${z.issuer}/oauth/v2/keys`,
      userinfo_endpoint: `${z.issuer}/oidc/v1/userinfo`,
      revocation_endpoint: `${z.issuer}/oauth/v2/revoke`,
      authorization_endpoint: `${z.issuer}/oauth/v2/authorize`,
      end_session_endpoint: `${z.issuer}/oidc/v1/end_session`,
    });
    expect(discovery.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer']),
    );
    expect(discovery.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
    const jwks = (await (await fetch(`${z.issuer}/oauth/v2/keys`)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(1);
  });

  it('hands out the API app key file as ZITADEL writes it, also on disk', () => {
    const { apiKeyFile } = z;
    expect(Object.keys(apiKeyFile).sort()).toEqual(['appId', 'clientId', 'key', 'keyId', 'type']);
    expect(apiKeyFile.type).toBe('application');
    expect(apiKeyFile.key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(createPrivateKey(apiKeyFile.key).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(apiKeyFile.clientId).toBe(`${apiKeyFile.appId}@local`);
    expect(apiKeyFile.keyId).toMatch(/^\d{18}$/);
    expect(JSON.parse(readFileSync(z.apiKeyPath, 'utf8'))).toEqual(apiKeyFile);
    expect(z.projectId).toBe(PROJECT_ID);
    expect(z.apiClientId).not.toBe(apiKeyFile.clientId);
    expect(isAlive(z.pid)).toBe(true);
  });

  it('makes a ZITADEL-like numeric project id by default', async () => {
    const other = await startLocalZitadel();
    try {
      expect(other.projectId).toMatch(/^\d{18}$/);
      expect(other.issuer).not.toBe(z.issuer);
    } finally {
      await other.close();
    }
  });
});

describe('service user with a key (JWT-bearer grant)', () => {
  it('gets a token that introspects active with roles, scope and project audience', async () => {
    const user = await z.createServiceUser({
      name: 'key-worker',
      roles: ROLES,
      auth: 'key',
      orgId: 'org-9',
    });
    expect(user.keyFile).toEqual({
      type: 'serviceaccount',
      keyId: expect.stringMatching(/^\d+$/),
      key: expect.stringMatching(/^-----BEGIN RSA PRIVATE KEY-----/),
      userId: user.userId,
    });
    expect(JSON.parse(readFileSync(user.keyPath!, 'utf8'))).toEqual(user.keyFile);

    const token = await keyUserToken(z, user.keyFile!, fullScope);
    const { status, body } = await introspectWithKey(z, token);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      active: true,
      sub: user.userId,
      client_id: user.userId,
      scope: fullScope,
      iss: z.issuer,
      username: 'key-worker',
      preferred_username: 'key-worker',
      token_type: 'Bearer',
      'urn:zitadel:iam:org:project:roles': ROLE_CLAIM,
      [`urn:zitadel:iam:org:project:${PROJECT_ID}:roles`]: ROLE_CLAIM,
      'urn:zitadel:iam:user:resourceowner:id': 'org-9',
      'urn:zitadel:iam:user:resourceowner:primary_domain': 'org-9.localhost',
    });
    expect(body.aud).toEqual([user.userId, PROJECT_ID]);
    expect(body.exp).toBe((body.iat as number) + 3600);

    const bySecretApp = await introspectWithSecret(z, token);
    expect(bySecretApp.body).toMatchObject({ active: true, sub: user.userId });
  });

  it('defaults the scope to openid; roles come without a role scope, the resource owner only with its scope', async () => {
    const user = await z.createServiceUser({ name: 'key-plain', roles: ROLES, auth: 'key' });
    const assertion = await signAssertion(
      user.keyFile!.key,
      user.keyFile!.keyId,
      userClaims(z, user.userId),
    );
    const granted = await jwtBearerGrant(z, assertion);
    expect(granted.body).toMatchObject({ token_type: 'Bearer', scope: 'openid', expires_in: 3600 });

    const withAudience = await keyUserToken(
      z,
      user.keyFile!,
      `openid ${audienceScope(PROJECT_ID)}`,
    );
    const { body } = await introspectWithKey(z, withAudience);
    expect(body.active).toBe(true);
    expect(
      Object.keys(body)
        .filter((claim) => claim.startsWith('urn:zitadel'))
        .sort(),
    ).toEqual([
      `urn:zitadel:iam:org:project:${PROJECT_ID}:roles`,
      'urn:zitadel:iam:org:project:roles',
    ]);
    expect(body).not.toHaveProperty('username');
  });

  it('answers inactive for a token without the project audience', async () => {
    const user = await z.createServiceUser({ name: 'key-no-aud', roles: ROLES, auth: 'key' });
    const token = await keyUserToken(z, user.keyFile!, `openid ${ROLES_SCOPE}`);
    expect((await introspectWithKey(z, token)).body).toEqual({ active: false });
    expect((await introspectWithSecret(z, token)).body).toEqual({ active: false });
  });

  it('answers a bad assertion as ZITADEL does: 500 server_error Errors.Internal', async () => {
    const user = await z.createServiceUser({ name: 'key-bad', auth: 'key' });
    const { key, keyId } = user.keyFile!;
    const claims = userClaims(z, user.userId);
    const otherPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const cases = [
      await signAssertion(otherPem, keyId, claims),
      await signAssertion(key, keyId, { ...claims, aud: 'https://elsewhere.example' }),
      await signAssertion(key, keyId, { ...claims, iat: claims.iat! - 120, exp: claims.iat! - 60 }),
      await signAssertion(key, keyId, { ...claims, iss: 'someone-else' }),
      await signAssertion(key, keyId, { ...claims, exp: undefined }),
      await signAssertion(key, 'unknown-kid', claims),
      'not-a-jwt',
    ];
    for (const assertion of cases) {
      const { status, body } = await jwtBearerGrant(z, assertion);
      expect({ status, body }).toEqual({
        status: 500,
        body: { error: 'server_error', error_description: 'Errors.Internal' },
      });
    }
  });

  it('accepts the issuer with a trailing slash as assertion audience', async () => {
    const user = await z.createServiceUser({ name: 'key-slash', auth: 'key' });
    const claims = { ...userClaims(z, user.userId), aud: `${z.issuer}/` };
    const assertion = await signAssertion(user.keyFile!.key, user.keyFile!.keyId, claims);
    expect((await jwtBearerGrant(z, assertion)).status).toBe(200);
  });
});

describe('service user with a client secret (client credentials)', () => {
  it('gets a token that introspects active with roles and project audience', async () => {
    const user = await z.createServiceUser({ name: 'cc-worker', roles: ROLES, auth: 'secret' });
    expect(user.clientId).toBe('cc-worker');
    const granted = await clientCredentialsGrant(z, user.clientId!, user.clientSecret!, fullScope);
    expect(granted.status).toBe(200);
    const token = granted.body.access_token as string;

    const { body } = await introspectWithKey(z, token);
    expect(body).toMatchObject({
      active: true,
      sub: user.userId,
      client_id: 'cc-worker',
      scope: fullScope,
      username: 'cc-worker',
      'urn:zitadel:iam:org:project:roles': ROLE_CLAIM,
      'urn:zitadel:iam:user:resourceowner:name': 'local',
    });
    expect(body.aud).toContain(PROJECT_ID);
    expect((await introspectWithSecret(z, token)).body.active).toBe(true);
  });

  it('answers inactive without the audience scope, and has roles without the roles scope', async () => {
    const user = await z.createServiceUser({ name: 'cc-narrow', roles: ROLES, auth: 'secret' });
    const noAudience = await clientCredentialsGrant(
      z,
      user.clientId!,
      user.clientSecret!,
      ROLES_SCOPE,
    );
    expect((await introspectWithKey(z, noAudience.body.access_token as string)).body).toEqual({
      active: false,
    });
    const noRoles = await clientCredentialsGrant(
      z,
      user.clientId!,
      user.clientSecret!,
      audienceScope(PROJECT_ID),
    );
    const { body } = await introspectWithKey(z, noRoles.body.access_token as string);
    expect(body.active).toBe(true);
    expect(body['urn:zitadel:iam:org:project:roles']).toEqual(ROLE_CLAIM);
  });

  it('rejects a wrong client secret with 401 invalid_client', async () => {
    const user = await z.createServiceUser({ name: 'cc-wrong', auth: 'secret' });
    const { status, body } = await clientCredentialsGrant(
      z,
      user.clientId!,
      'wrong-secret',
      'openid',
    );
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });
});

describe('service user with a personal access token', () => {
  it('introspects active with the project audience and roles', async () => {
    const user = await z.createServiceUser({
      name: 'pat-user',
      roles: { reader: ['org-3'] },
      auth: 'pat',
    });
    expect(user.pat).toEqual(expect.any(String));
    const { body } = await introspectWithKey(z, user.pat!);
    expect(body).toMatchObject({
      active: true,
      sub: user.userId,
      username: 'pat-user',
      'urn:zitadel:iam:org:project:roles': { reader: { 'org-3': 'org-3.localhost' } },
      'urn:zitadel:iam:user:resourceowner:id': expect.any(String),
    });
    expect(body.aud).toContain(PROJECT_ID);
    expect((body.exp as number) - (body.iat as number)).toBe(30 * 24 * 3600);
  });
});

describe('introspection client authentication', () => {
  it('rejects a client assertion signed with another key', async () => {
    const otherPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const { status, body } = await introspectWithKey(z, 'any-token', otherPem);
    expect({ status, body }).toEqual({ status: 400, body: { error: 'unauthorized_client' } });
  });

  it('rejects a wrong client secret with 400 unauthorized_client, as ZITADEL does', async () => {
    const { status, body } = await introspectWithSecret(z, 'any-token', 'wrong');
    expect({ status, body }).toEqual({ status: 400, body: { error: 'unauthorized_client' } });
  });

  it('answers inactive for an unknown token', async () => {
    expect((await introspectWithKey(z, 'unknown-token')).body).toEqual({ active: false });
  });
});

describe('createServiceUser validation', () => {
  it('rejects a duplicate name, a bad auth kind and malformed roles', async () => {
    await z.createServiceUser({ name: 'dup', auth: 'pat' });
    await expect(z.createServiceUser({ name: 'dup', auth: 'key' })).rejects.toThrow(/exists/);
    await expect(z.createServiceUser({ name: 'x', auth: 'password' as 'key' })).rejects.toThrow(
      /auth/,
    );
    await expect(
      z.createServiceUser({
        name: 'y',
        auth: 'key',
        roles: { reader: 'org-1' as unknown as string[] },
      }),
    ).rejects.toThrow(/roles/);
    await expect(z.createServiceUser({ name: '', auth: 'key' })).rejects.toThrow(/name/);
  });
});

describe("fidelity: introspection answers as ZITADEL's code builds them", () => {
  it('a PAT: both API apps in aud with the project, one role scope per role, no client_id', async () => {
    const user = await z.createServiceUser({ name: 'pat-fidelity', roles: ROLES, auth: 'pat' });
    const byKeyApp = (await introspectWithKey(z, user.pat!)).body;
    expect(byKeyApp.aud).toEqual(expect.arrayContaining([z.apiKeyFile.clientId, PROJECT_ID]));
    expect(byKeyApp).not.toHaveProperty('client_id');
    expect((byKeyApp.scope as string).split(' ')).toEqual([
      'openid',
      'profile',
      'urn:zitadel:iam:user:metadata',
      'urn:zitadel:iam:user:resourceowner',
      'urn:zitadel:iam:org:project:role:reader',
      'urn:zitadel:iam:org:project:role:admin',
    ]);
    expect(byKeyApp).toMatchObject({
      token_type: 'Bearer',
      username: 'pat-fidelity',
      [`urn:zitadel:iam:org:project:${PROJECT_ID}:roles`]: ROLE_CLAIM,
    });
    const bySecretApp = (await introspectWithSecret(z, user.pat!)).body;
    expect(bySecretApp.aud).toEqual(expect.arrayContaining([z.apiClientId, PROJECT_ID]));
    expect(bySecretApp.aud).not.toContain(z.apiKeyFile.clientId);
  });

  it('username / preferred_username / name only with the profile scope; aud an array; integers for times', async () => {
    const user = await z.createServiceUser({ name: 'profiled', auth: 'key' });
    const withProfile = await keyUserToken(
      z,
      user.keyFile!,
      `openid profile ${audienceScope(PROJECT_ID)}`,
    );
    const without = await keyUserToken(z, user.keyFile!, `openid ${audienceScope(PROJECT_ID)}`);
    const answered = (await introspectWithKey(z, withProfile)).body;
    expect(answered).toMatchObject({
      username: 'profiled',
      preferred_username: 'profiled',
      name: 'profiled',
    });
    const bare = (await introspectWithKey(z, without)).body;
    expect(bare).not.toHaveProperty('username');
    expect(bare).not.toHaveProperty('preferred_username');
    expect(Array.isArray(bare.aud)).toBe(true);
    for (const claim of ['exp', 'iat', 'nbf']) expect(Number.isInteger(bare[claim])).toBe(true);
    expect(bare).not.toHaveProperty('urn:zitadel:iam:org:project:roles');
  });

  it('role scopes narrow the role claims to the keys asked for', async () => {
    const user = await z.createServiceUser({ name: 'narrowed', roles: ROLES, auth: 'key' });
    const token = await keyUserToken(
      z,
      user.keyFile!,
      `openid ${audienceScope(PROJECT_ID)} urn:zitadel:iam:org:project:role:reader`,
    );
    const { body } = await introspectWithKey(z, token);
    expect(body['urn:zitadel:iam:org:project:roles']).toEqual({ reader: ROLE_CLAIM.reader });
  });

  it('Cache-Control: no-store and Pragma: no-cache on every answer, errors included', async () => {
    const user = await z.createServiceUser({ name: 'no-store', auth: 'pat' });
    const answers = [
      await introspectWithKey(z, user.pat!),
      await introspectWithKey(z, 'unknown'),
      await introspectWithSecret(z, 'x', 'wrong'),
    ];
    expect(answers.map(({ status }) => status)).toEqual([200, 200, 400]);
    for (const { headers } of answers) {
      expect(headers.get('cache-control')).toBe('no-store');
      expect(headers.get('pragma')).toBe('no-cache');
    }
  });
});
