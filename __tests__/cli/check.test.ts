/**
 * `check` names each fault on its own line with the right exit code: against
 * the local ZITADEL (ok, a key it does not know, another instance), a
 * scripted one (another issuer, garbage) and a closed port.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { audienceScope, ensureBuilt, expectNoSecrets, runCli, type CliResult } from './run-cli';

let z: LocalZitadel;
let other: LocalZitadel;
let scripted: ScriptedZitadel;
let closedPortUrl: string;
let tempDir: string;
const freshPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();

beforeAll(async () => {
  const built = ensureBuilt();
  [z, other, scripted] = await Promise.all([
    startLocalZitadel(),
    startLocalZitadel(),
    startScriptedZitadel(),
  ]);
  closedPortUrl = await closedPort();
  tempDir = mkdtempSync(join(tmpdir(), 'cli-check-'));
  await built;
}, 60_000);

afterAll(async () => {
  await Promise.all([z?.close(), other?.close(), scripted?.close()]);
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

function writeKey(name: string, content: object): string {
  const path = join(tempDir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const check = (issuer: string, ...credentials: string[]) =>
  runCli(['check', '--issuer', issuer, ...credentials]);

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

function expectSecretsKept(result: CliResult) {
  expectNoSecrets(result, [z.apiKeyFile.key, other.apiKeyFile.key, freshPem, z.apiClientSecret]);
}

it('all good → exit 0, one ✓ line per check, nothing on stderr', async () => {
  const result = await check(z.issuer, '--key', z.apiKeyPath);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(lines(result.stdout)).toEqual([
    `✓ discovery: ${z.issuer} is reachable and names itself as issuer; introspection endpoint ${z.issuer}/oauth/v2/introspect`,
    `✓ key file: application key ${z.apiKeyFile.keyId} of client ${z.apiKeyFile.clientId} (RS256)`,
    '✓ client authentication: ZITADEL accepted it (a random token came back inactive, as it should)',
  ]);
  expectSecretsKept(result);
});

it('all good with the client id and secret of an API app', async () => {
  const result = await check(
    z.issuer,
    '--client-id',
    z.apiClientId,
    '--client-secret',
    z.apiClientSecret,
  );
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(lines(result.stdout)[1]).toBe(
    `✓ client secret: client ${z.apiClientId} with a client secret (not verifiable before the call)`,
  );
  expectSecretsKept(result);
});

it('a wrong client secret → exit 1, client authentication rejected', async () => {
  const result = await check(
    z.issuer,
    '--client-id',
    z.apiClientId,
    '--client-secret',
    'nope-0123456789',
  );
  expect(result.code).toBe(1);
  expect(lines(result.stdout)[2]).toBe('✗ client authentication');
  expect(lines(result.stderr)).toEqual([
    expect.stringMatching(
      /^client authentication: ZITADEL rejected our client authentication \(HTTP 400 unauthorized_client\).*client id and secret right/,
    ),
  ]);
  expectNoSecrets(result, ['nope-0123456789', z.apiClientSecret]);
});

it('a freshly generated key ZITADEL does not know (same keyId and clientId) → exit 1 with the hint', async () => {
  const unknownKey = writeKey('unknown-key.json', { ...z.apiKeyFile, key: freshPem });
  const result = await check(z.issuer, '--key', unknownKey);
  expect(result.code).toBe(1);
  expect(lines(result.stdout)).toEqual([
    expect.stringMatching(/^✓ discovery: /),
    expect.stringMatching(/^✓ key file: /),
    '✗ client authentication',
  ]);
  expect(lines(result.stderr)).toEqual([
    expect.stringMatching(
      /^client authentication: ZITADEL rejected our client authentication \(HTTP 40[01].*\) - is the key revoked, is it the key of another application, or is the issuer wrong\?$/,
    ),
  ]);
  expectSecretsKept(result);
});

it('the key of another instance (right file, wrong issuer) → exit 1 with the same hint', async () => {
  const result = await check(other.issuer, '--key', z.apiKeyPath);
  expect(result.code).toBe(1);
  expect(lines(result.stdout)[2]).toBe('✗ client authentication');
  expect(result.stderr).toMatch(/or is the issuer wrong\?\n$/);
  expectSecretsKept(result);
});

it('discovery naming another issuer → exit 1, "wrong issuer", client authentication skipped', async () => {
  scripted.discovery({
    json: { issuer: 'https://acme.zitadel.cloud', introspection_endpoint: 'x' },
  });
  try {
    const result = await check(scripted.issuer, '--key', z.apiKeyPath);
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([
      '✗ discovery',
      expect.stringMatching(/^✓ key file: /),
      '- client authentication: skipped (needs discovery and credentials)',
    ]);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        /^discovery: discovery document at .* names another issuer \(https:\/\/acme\.zitadel\.cloud\) than the configured one - wrong issuer\?/,
      ),
    ]);
    expect(scripted.requests).toHaveLength(0);
    expectSecretsKept(result);
  } finally {
    scripted.discovery(undefined);
  }
});

it('ZITADEL unreachable (closed port) → exit 2', async () => {
  const result = await check(closedPortUrl, '--key', z.apiKeyPath);
  expect(result.code).toBe(2);
  expect(lines(result.stdout)[0]).toBe('✗ discovery');
  expect(lines(result.stderr)).toEqual([
    expect.stringMatching(
      /^discovery: discovery at .* unreachable: .*ECONNREFUSED.* - is the issuer URL right, and is ZITADEL up and reachable from here\?$/,
    ),
  ]);
});

it('a malformed key file → exit 1, naming the missing field', async () => {
  const { keyId: _keyId, ...withoutKeyId } = z.apiKeyFile;
  const result = await check(z.issuer, '--key', writeKey('no-key-id.json', withoutKeyId));
  expect(result.code).toBe(1);
  expect(lines(result.stdout)).toEqual([
    expect.stringMatching(/^✓ discovery: /),
    '✗ key file',
    '- client authentication: skipped (needs discovery and credentials)',
  ]);
  expect(lines(result.stderr)).toEqual([
    expect.stringMatching(/^key file: key file .*no-key-id\.json: field keyId is missing$/),
  ]);
  expectSecretsKept(result);
});

it("a service user's key file → exit 1, naming the field type", async () => {
  const user = await z.createServiceUser({ name: 'not-an-app', auth: 'key' });
  const result = await check(z.issuer, '--key', user.keyPath as string);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^key file: .*field type is serviceaccount, expected application/);
  expectNoSecrets(result, [user.keyFile?.key as string]);
});

it('a missing key file and an unreachable ZITADEL → both named, exit code of the first (2)', async () => {
  const result = await check(closedPortUrl, '--key', join(tempDir, 'absent.json'));
  expect(result.code).toBe(2);
  expect(lines(result.stdout)).toEqual(['✗ discovery', '✗ key file', expect.stringMatching(/^- /)]);
  expect(lines(result.stderr)).toEqual([
    expect.stringMatching(/^discovery: .*unreachable/),
    expect.stringMatching(/^key file: key file .*absent\.json: cannot be read \(ENOENT\)$/),
  ]);
});

it('garbage from the introspection endpoint → exit 2', async () => {
  scripted.answer('default', { body: 'not json' });
  try {
    const result = await check(scripted.issuer, '--key', z.apiKeyPath);
    expect(result.code).toBe(2);
    expect(lines(result.stdout)[2]).toBe('✗ client authentication');
    expect(result.stderr).toMatch(
      /^client authentication: malformed introspection answer: not JSON/,
    );
    const token = scripted.requests.at(-1)?.token as string;
    expect(token).toMatch(/^[\w-]{43}$/);
    expectNoSecrets(result, [token]);
  } finally {
    scripted.answer('default', { json: { active: false } });
  }
});

it('an endpoint that calls a random token active → exit 2', async () => {
  scripted.answer('default', { json: { active: true, sub: 'anyone' } });
  try {
    const result = await check(scripted.issuer, '--key', z.apiKeyPath);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/a random token came back active/);
  } finally {
    scripted.answer('default', { json: { active: false } });
  }
});

it('the tip in token --help names both scopes an API needs', async () => {
  const result = await runCli(['token', '--help']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(audienceScope('<projectId>'));
  expect(result.stdout).toContain('urn:zitadel:iam:org:projects:roles');
});

async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('check --token', () => {
  let user: { userId: string; pat: string };
  beforeAll(async () => {
    const created = await z.createServiceUser({
      name: 'check-token-user',
      roles: { reader: ['org-1'] },
      auth: 'pat',
    });
    user = { userId: created.userId, pat: created.pat! };
  });

  it('a real token active for this API → exit 0 and a ✓ token line naming its subject', async () => {
    const result = await check(z.issuer, '--key', z.apiKeyPath, '--token', user.pat);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)[3]).toMatch(
      new RegExp(`^✓ token: active for this API \\(subject ${user.userId}\\)`),
    );
    expectNoSecrets(result, [z.apiKeyFile.key, user.pat]);
  });

  it('reads the token from stdin with --token -', async () => {
    const result = await runCli(
      ['check', '--issuer', z.issuer, '--key', z.apiKeyPath, '--token', '-'],
      {
        input: `${user.pat}\n`,
      },
    );
    expect(result.code).toBe(0);
    expect(lines(result.stdout)[3]).toMatch(/^✓ token: active/);
  });

  it('a revoked token → exit 3, ✗ token and why on stderr', async () => {
    const revoked = await z.createServiceUser({ name: 'check-token-revoked', auth: 'pat' });
    await z.revokeToken(revoked.pat!);
    const result = await check(z.issuer, '--key', z.apiKeyPath, '--token', revoked.pat!);
    expect(result.code).toBe(3);
    expect(lines(result.stdout)[3]).toBe('✗ token');
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^token: ZITADEL answered active:false - /),
    ]);
    expectNoSecrets(result, [revoked.pat!]);
  });

  it('is skipped when an earlier check failed, and an empty token is a usage error', async () => {
    const skipped = await check(
      z.issuer,
      '--client-id',
      z.apiClientId,
      '--client-secret',
      'wrong',
      '--token',
      user.pat,
    );
    expect(skipped.code).toBe(1);
    expect(lines(skipped.stdout)).toContain('- token: skipped (needs the checks above to pass)');
    const empty = await runCli([
      'check',
      '--issuer',
      z.issuer,
      '--key',
      z.apiKeyPath,
      '--token',
      '-',
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/stdin holds no token/);
  });
});
