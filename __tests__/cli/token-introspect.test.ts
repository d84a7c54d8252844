/**
 * `token` and `introspect` against the local ZITADEL: a service user gets a
 * token from the CLI, the CLI introspects it as the API would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  audienceScope,
  ensureBuilt,
  expectNoSecrets,
  ROLES_SCOPE,
  runCli,
  type CliResult,
} from './run-cli';

const PROJECT_ID = '300000000000000077';
const B64TOKEN_LINE = /^[A-Za-z0-9\-._~+/]+=*\n$/;

let z: LocalZitadel;
let keyUser: { userId: string; keyPath: string; keyPem: string };
let secretUser: { userId: string; clientId: string; clientSecret: string };
let apiKey: string[];
let fullScope: string[];

beforeAll(async () => {
  const built = ensureBuilt();
  z = await startLocalZitadel({ projectId: PROJECT_ID });
  const roles = { reader: ['org-1'], admin: ['org-1', 'org-2'] };
  const [withKey, withSecret] = await Promise.all([
    z.createServiceUser({ name: 'cli-key-user', roles, auth: 'key' }),
    z.createServiceUser({ name: 'cli-secret-user', roles: { reader: ['org-2'] }, auth: 'secret' }),
  ]);
  keyUser = {
    userId: withKey.userId,
    keyPath: withKey.keyPath as string,
    keyPem: withKey.keyFile?.key as string,
  };
  secretUser = {
    userId: withSecret.userId,
    clientId: withSecret.clientId as string,
    clientSecret: withSecret.clientSecret as string,
  };
  apiKey = ['--issuer', z.issuer, '--key', z.apiKeyPath];
  fullScope = ['--scope', `openid profile ${audienceScope(PROJECT_ID)}`, '--scope', ROLES_SCOPE];
  await built;
}, 60_000);

afterAll(() => z?.close());

/** Every secret of this file: none may ever be printed (tokens are added per test). */
function secrets(...tokens: string[]): string[] {
  return [z.apiKeyFile.key, keyUser.keyPem, secretUser.clientSecret, z.apiClientSecret, ...tokens];
}

async function tokenFor(user: 'key' | 'secret', scope = fullScope): Promise<string> {
  const credentials =
    user === 'key'
      ? ['--key', keyUser.keyPath]
      : ['--client-id', secretUser.clientId, '--client-secret', secretUser.clientSecret];
  const result = await runCli(['token', '--issuer', z.issuer, ...credentials, ...scope]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(B64TOKEN_LINE);
  expectNoSecrets(result, secrets());
  return result.stdout.trim();
}

function expectInactiveExit(result: CliResult) {
  expect(result.code).toBe(3);
  expect(result.stdout).toMatch(/^active\s+no$/m);
  expect(result.stderr).toBe('');
}

describe('token', () => {
  it('prints exactly one line, a token of the key user (JWT-bearer grant) that introspects active', async () => {
    const token = await tokenFor('key');
    const result = await runCli(['introspect', ...apiKey, token]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^active\s+yes$/m);
    expect(result.stdout).toMatch(new RegExp(`^subject\\s+${keyUser.userId}$`, 'm'));
    expect(result.stdout).toMatch(/^username\s+cli-key-user$/m);
    expectNoSecrets(result, secrets(token));
  });

  it('prints a token of the secret user (client credentials) that introspects active', async () => {
    const token = await tokenFor('secret');
    const result = await runCli(['introspect', ...apiKey, '--json', token]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      active: true,
      subject: secretUser.userId,
      clientId: secretUser.clientId,
      roles: { reader: { 'org-2': 'org-2.localhost' } },
    });
    expect(report.audience).toContain(PROJECT_ID);
    expectNoSecrets(result, secrets(token));
  });

  it('takes the client secret from ZITADEL_CLIENT_SECRET, out of the process list', async () => {
    const result = await runCli(
      ['token', '--issuer', z.issuer, '--client-id', secretUser.clientId, ...fullScope],
      { env: { ZITADEL_CLIENT_SECRET: secretUser.clientSecret } },
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(B64TOKEN_LINE);
  });

  it('defaults to the scope openid, which gives a token not meant for the API', async () => {
    const token = await tokenFor('key', []);
    const result = await runCli(['introspect', ...apiKey, token]);
    expectInactiveExit(result);
  });

  it('fails with exit 1 and one stderr line when ZITADEL refuses the secret', async () => {
    const result = await runCli([
      'token',
      '--issuer',
      z.issuer,
      '--client-id',
      secretUser.clientId,
      '--client-secret',
      'not-the-secret-0123456789',
    ]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^error: token request failed \(HTTP 401\): invalid_client.*\n$/);
    expect(result.stderr).toContain('are the client id and secret right');
    expectNoSecrets(result, [...secrets(), 'not-the-secret-0123456789']);
  });

  it("says what ZITADEL's 500 Errors.Internal to a refused assertion usually means (exit 1)", async () => {
    // The key user's key file with another user's id: ZITADEL refuses the assertion with a 500.
    const wrongOwner = await z.createServiceUser({ name: 'cli-other-user', auth: 'key' });
    const keyFile = {
      ...JSON.parse(readFileSync(keyUser.keyPath, 'utf8')),
      userId: wrongOwner.userId,
    };
    const path = join(dirname(keyUser.keyPath), 'mismatched-key.json');
    writeFileSync(path, JSON.stringify(keyFile));
    const result = await runCli(['token', '--issuer', z.issuer, '--key', path]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(
      /^error: token request failed \(HTTP 500\): server_error: Errors.Internal - ZITADEL answers so when it refuses the JWT-bearer assertion: usually the key is not this service user's, is expired or removed, or is an API app's key/,
    );
    expect(result.stderr.split('\n')).toHaveLength(2);
    expectNoSecrets(result, secrets());
  });

  it('rejects the key file of an API application, naming the field type (exit 1)', async () => {
    const result = await runCli(['token', '--issuer', z.issuer, '--key', z.apiKeyPath]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^error: .*field type is application, expected serviceaccount/);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expectNoSecrets(result, secrets());
  });
});

describe('introspect', () => {
  let token: string;
  beforeAll(async () => {
    token = await tokenFor('key');
  });

  it('shows subject, client id, scopes, roles by org, expiry and audience (exit 0)', async () => {
    const result = await runCli(['introspect', ...apiKey, '--project-id', PROJECT_ID, token]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const out = result.stdout;
    expect(out).toMatch(/^client id\s+\S+$/m);
    expect(out).toMatch(
      new RegExp(`^scopes\\s+openid profile ${audienceScope(PROJECT_ID)} ${ROLES_SCOPE}$`, 'm'),
    );
    expect(out).toMatch(/^roles\s+reader\s+org-1 \(org-1\.localhost\)$/m);
    expect(out).toMatch(/^\s+admin\s+org-1 \(org-1\.localhost\), org-2 \(org-2\.localhost\)$/m);
    expect(out).toMatch(/^expires\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in (59|60) min\)$/m);
    expect(out).toMatch(new RegExp(`^audience\\s+.*\\b${PROJECT_ID}\\b`, 'm'));
    expectNoSecrets(result, secrets(token));
  });

  it('reads the token from stdin when given as -', async () => {
    const result = await runCli(['introspect', ...apiKey, '-'], { input: `${token}\n` });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^subject\\s+${keyUser.userId}$`, 'm'));
    expectNoSecrets(result, secrets(token));
  });

  it("authenticates with the API app's client id and secret too", async () => {
    const result = await runCli([
      'introspect',
      '--issuer',
      z.issuer,
      '--client-id',
      z.apiClientId,
      '--client-secret',
      z.apiClientSecret,
      token,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^active\s+yes$/m);
    expectNoSecrets(result, secrets(token));
  });

  it('gives --json without the token', async () => {
    const result = await runCli(['introspect', ...apiKey, '--json', token]);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      active: true,
      subject: keyUser.userId,
      username: 'cli-key-user',
      scopes: ['openid', 'profile', audienceScope(PROJECT_ID), ROLES_SCOPE],
      roles: {
        reader: { 'org-1': 'org-1.localhost' },
        admin: { 'org-1': 'org-1.localhost', 'org-2': 'org-2.localhost' },
      },
    });
    expect(report.expiresInSeconds).toBeGreaterThan(3500);
    expect(Date.parse(report.expiresAt)).toBeGreaterThan(Date.now());
    expectNoSecrets(result, secrets(token));
  });

  it('a token without the :aud scope → exit 3, naming the scope with the project id', async () => {
    const narrow = await tokenFor('key', ['--scope', `openid ${ROLES_SCOPE}`]);
    const result = await runCli(['introspect', ...apiKey, '--project-id', PROJECT_ID, narrow]);
    expectInactiveExit(result);
    expect(result.stdout).toContain(
      `not meant for this API: the service user must request the scope ${audienceScope(PROJECT_ID)}`,
    );
    expect(result.stdout).toMatch(/^ {2}- expired: /m);
    expect(result.stdout).toMatch(/^ {2}- revoked: /m);
    expect(result.stdout).toContain(
      `issued by another instance: the token does not come from ${z.issuer}`,
    );
    expectNoSecrets(result, secrets(narrow));
  });

  it('without --project-id the hint shows a placeholder and asks for it', async () => {
    const narrow = await tokenFor('secret', ['--scope', 'openid']);
    const result = await runCli(['introspect', ...apiKey, '--json', narrow]);
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout);
    expect(report.active).toBe(false);
    expect(report.reasons.map((r: { reason: string }) => r.reason)).toEqual([
      'expired',
      'audience',
      'revoked',
      'issuer',
    ]);
    expect(report.reasons[1].hint).toBe(
      `the service user must request the scope ${audienceScope('<projectId>')} (pass --project-id to name the project)`,
    );
    expectNoSecrets(result, secrets(narrow));
  });

  it('garbage → exit 3', async () => {
    const result = await runCli(['introspect', ...apiKey, 'garbage-token-0123456789abcdef']);
    expectInactiveExit(result);
    expect(result.stdout).not.toContain('garbage-token-0123456789abcdef');
  });
});
