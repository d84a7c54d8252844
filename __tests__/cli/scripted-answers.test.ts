/**
 * `introspect` and `token` against a scripted ZITADEL: the answers a real
 * one gives only on a bad day (garbage, 503, a rejection) or never on demand
 * (an active answer past its exp, odd role shapes), and JWT-shaped tokens,
 * which the local issuer refuses to introspect.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { ensureBuilt, expectNoSecrets, runCli, type CliResult } from './run-cli';

const TOKEN = 'scripted-token-0123456789abcdefghij';
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();

let zitadel: ScriptedZitadel;
let tempDir: string;
let keyPath: string;

beforeAll(async () => {
  const built = ensureBuilt();
  zitadel = await startScriptedZitadel();
  tempDir = mkdtempSync(join(tmpdir(), 'cli-answers-'));
  keyPath = join(tempDir, 'api-key.json');
  const keyFile = {
    type: 'application',
    keyId: 'k-1',
    key: PEM,
    appId: 'app-1',
    clientId: 'api@p',
  };
  writeFileSync(keyPath, JSON.stringify(keyFile));
  await built;
}, 60_000);

afterAll(async () => {
  await zitadel?.close();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

const introspect = (...extra: string[]) =>
  runCli(['introspect', '--issuer', zitadel.issuer, '--key', keyPath, ...extra]);

function expectOneErrorLine(result: CliResult, code: number, pattern: RegExp) {
  expect(result).toMatchObject({ code, stdout: '' });
  expect(result.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(result.stderr).toMatch(pattern);
  expectNoSecrets(result, [PEM, TOKEN]);
}

it('sends the token with a client assertion of the API key (private_key_jwt)', async () => {
  const result = await introspect(TOKEN);
  expect(result.code).toBe(3);
  const request = zitadel.requests.at(-1);
  expect(request?.token).toBe(TOKEN);
  expect(request?.form.get('client_assertion_type')).toBe(
    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  );
  expect(request?.form.get('client_assertion')).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
});

it('sends client_secret_basic with --client-id/--client-secret', async () => {
  const result = await runCli([
    'introspect',
    '--issuer',
    zitadel.issuer,
    '--client-id',
    'api@p',
    '--client-secret',
    's3cret-0123456789',
    TOKEN,
  ]);
  expect(result.code).toBe(3);
  const { headers } = zitadel.requests.at(-1) as { headers: Record<string, string> };
  expect(headers.authorization).toBe(
    `Basic ${Buffer.from('api%40p:s3cret-0123456789').toString('base64')}`,
  );
  expectNoSecrets(result, ['s3cret-0123456789', TOKEN]);
});

// Opaque tokens and secrets are base64url: one in 64 starts with a dash.
it.each([
  ['before the options', (token: string) => [token, '--json']],
  ['after the options', (token: string) => ['--json', token]],
  ['after --', (token: string) => ['--json', '--', token]],
])('a token that starts with a dash is a token, %s', async (_where, place) => {
  const dashed = `-${TOKEN}`;
  const result = await introspect(...place(dashed));
  expect(result).toMatchObject({ code: 3, stderr: '' });
  expect(JSON.parse(result.stdout)).toMatchObject({ active: false });
  expect(zitadel.requests.at(-1)?.token).toBe(dashed);
  expectNoSecrets(result, [PEM, dashed]);
});

it('a client secret that starts with a dash is the value of --client-secret', async () => {
  const secret = '-s3cret-0123456789';
  const result = await runCli([
    'introspect',
    '--issuer',
    zitadel.issuer,
    '--client-id',
    'api@p',
    '--client-secret',
    secret,
    TOKEN,
  ]);
  expect(result).toMatchObject({ code: 3, stderr: '' });
  const { headers } = zitadel.requests.at(-1) as { headers: Record<string, string> };
  expect(headers.authorization).toBe(
    `Basic ${Buffer.from(`api%40p:${secret}`).toString('base64')}`,
  );
  expectNoSecrets(result, [secret, TOKEN]);
});

it('a JWT-shaped token: what its own claims show comes first, marked as seen', async () => {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { iss: 'https://other.zitadel.cloud', aud: ['someone-else'], exp: 1_000_000 };
  const jwt = `${encode({ alg: 'RS256' })}.${encode(payload)}.c2lnbmF0dXJl`;
  const result = await introspect('--project-id', '42', jwt);
  expect(result).toMatchObject({ code: 3, stderr: '' });
  const reasons = result.stdout.split('\n').filter((line) => line.startsWith('  - '));
  expect(reasons).toHaveLength(4);
  expect(reasons[0]).toMatch(/^ {2}- expired: .*\[seen: the token, a JWT, expired \d+ d ago\]$/);
  expect(reasons[1]).toMatch(
    /^ {2}- not meant for this API: .*:id:42:aud \[seen: its audience is someone-else\]$/,
  );
  expect(reasons[2]).toMatch(
    /^ {2}- issued by another instance: .*\[seen: it was issued by https:\/\/other\.zitadel\.cloud\]$/,
  );
  expect(reasons[3]).toMatch(/^ {2}- revoked: [^[]*$/);
  expectNoSecrets(result, [PEM, jwt]);
});

it('a JWT without aud, iss or exp shows only that it has no audience', async () => {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const jwt = `${encode({ alg: 'RS256' })}.${encode({ sub: 'x' })}.c2lnbmF0dXJl`;
  const result = await introspect(jwt);
  expect(result.code).toBe(3);
  expect(result.stdout.match(/\[seen: .*\]/g)).toEqual(['[seen: it has no audience]']);
});

it.each([
  ['a JWT for this API and instance, still valid', true],
  ['three parts whose middle is not JSON', false],
  ['three parts whose middle is a JSON array', false],
])('%s: nothing is marked as seen', async (_name, valid) => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { iss: `${zitadel.issuer}/`, aud: ['42'], exp: Date.now() / 1000 + 600 };
  const middle = valid ? encode(payload) : _name.includes('array') ? encode([1]) : 'bm90IGpzb24';
  const result = await introspect(
    '--project-id',
    '42',
    `${encode({ alg: 'RS256' })}.${middle}.c2ln`,
  );
  expect(result.code).toBe(3);
  expect(result.stdout).not.toContain('[seen:');
  expect(result.stdout.match(/^ {2}- /gm)).toHaveLength(4);
});

it('a short "token" is printed as is where a claim echoes it (scrubbing would garble the output)', async () => {
  zitadel.answer('abc', { json: activeAnswer({ username: 'abc' }) });
  const result = await introspect('abc');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^active\s+yes$/m);
  expect(result.stdout).toMatch(/^username\s+abc$/m);
});

it('an active answer past its exp is reported inactive (exit 3), with what ZITADEL said', async () => {
  zitadel.answer(TOKEN, { json: activeAnswer({ sub: 'svc-9' }, -600) });
  const result = await introspect(TOKEN);
  expect(result).toMatchObject({ code: 3, stderr: '' });
  expect(result.stdout).toMatch(/^active\s+no$/m);
  expect(result.stdout).toMatch(/^subject\s+svc-9$/m);
  expect(result.stdout).toMatch(/^expires\s+\S+ \(expired 10 min ago\)$/m);
  expect(result.stdout).toContain(
    "  - expired: the token's lifetime is over; get a new one [seen: ZITADEL answered active, but exp passed 10 min ago]",
  );
});

it('an active answer without roles, exp or audience says so, with the roles scope hint', async () => {
  zitadel.answer(TOKEN, { json: { active: true, client_id: 'svc-2' } });
  const result = await introspect(TOKEN);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(/^subject\s+svc-2$/m);
  expect(result.stdout).toMatch(/^scopes\s+\(none\)$/m);
  expect(result.stdout).toMatch(
    /^roles\s+\(none\) \(ask for the scope urn:zitadel:iam:org:projects:roles\)$/m,
  );
  expect(result.stdout).toMatch(/^expires\s+\(no exp\)$/m);
  expect(result.stdout).toMatch(/^audience\s+\(none\)$/m);
});

it('reads the roles of --project-id, shows an org without domain by id, and long expiries in d', async () => {
  const roles = { viewer: { 'org-7': '' } };
  zitadel.answer(TOKEN, {
    json: activeAnswer(
      {
        scope: 'openid urn:zitadel:iam:org:projects:roles',
        'urn:zitadel:iam:org:project:99:roles': roles,
        'urn:zitadel:iam:org:project:roles': { other: { 'org-1': 'x' } },
        'urn:zitadel:iam:user:resourceowner:id': 'org-7',
        aud: 'api@p',
      },
      30 * 86400,
    ),
  });
  const result = await introspect('--project-id', '99', TOKEN);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^roles\s+viewer {2}org-7$/m);
  expect(result.stdout).not.toContain('other');
  expect(result.stdout).toMatch(/^org\s+org-7$/m);
  expect(result.stdout).toMatch(/^expires\s+\S+ \(in 30 d\)$/m);
  expect(result.stdout).toMatch(/^audience\s+api@p$/m);
  const empty = { active: true, sub: '', scope: 'openid urn:zitadel:iam:org:projects:roles' };
  zitadel.answer(TOKEN, { json: empty });
  const bare = await introspect(TOKEN);
  expect(bare.stdout).toMatch(/^subject\s+\(none\)$/m);
  expect(bare.stdout).toMatch(/^roles\s+\(none\)$/m);
});

it('shows expiry in seconds and hours when that reads better', async () => {
  zitadel.answer(TOKEN, { json: activeAnswer({}, 30) });
  expect((await introspect(TOKEN)).stdout).toMatch(/^expires\s+\S+ \(in (2\d|30) s\)$/m);
  zitadel.answer(TOKEN, { json: activeAnswer({}, 5 * 3600) });
  expect((await introspect(TOKEN)).stdout).toMatch(/^expires\s+\S+ \(in 5 h\)$/m);
});

it('never prints the token, even when a claim echoes it', async () => {
  zitadel.answer(TOKEN, { json: activeAnswer({ username: TOKEN, note: `x${TOKEN}x` }) });
  const human = await introspect(TOKEN);
  expect(human.stdout).toMatch(/^username\s+\[token\]$/m);
  const json = await introspect('--json', TOKEN);
  expect(JSON.parse(json.stdout).username).toBe('[token]');
  expectNoSecrets(human, [TOKEN]);
  expectNoSecrets(json, [TOKEN]);
});

it('garbage from ZITADEL → exit 2, one line', async () => {
  zitadel.answer(TOKEN, { body: '<html>proxy error</html>' });
  expectOneErrorLine(
    await introspect(TOKEN),
    2,
    /malformed introspection answer: not JSON - .*proxy/,
  );
  zitadel.answer(TOKEN, { json: { active: 'yes' } });
  expectOneErrorLine(await introspect(TOKEN), 2, /active is missing or not a boolean/);
});

it('ZITADEL answering 503 → exit 2, one line', async () => {
  zitadel.answer(TOKEN, { status: 503, json: { error: 'unavailable' } });
  expectOneErrorLine(
    await introspect(TOKEN),
    2,
    /introspection endpoint answered HTTP 503 - is the issuer URL right, and is ZITADEL up/,
  );
});

it('our client authentication rejected (HTTP 400 unauthorized_client) → exit 1 with the hint', async () => {
  zitadel.answer(TOKEN, {
    status: 400,
    json: { error: 'unauthorized_client', error_description: 'client assertion invalid' },
  });
  expectOneErrorLine(
    await introspect(TOKEN),
    1,
    /ZITADEL rejected our client authentication \(HTTP 400 unauthorized_client .*key revoked.*issuer wrong/,
  );
});

it('a discovery document that is not JSON → exit 2; one that names another issuer → exit 1', async () => {
  try {
    zitadel.discovery({ body: 'hello' });
    expectOneErrorLine(await introspect(TOKEN), 2, /discovery document .* is not a JSON object/);
    zitadel.discovery({ json: { issuer: 'https://acme.zitadel.cloud' } });
    expectOneErrorLine(
      await introspect(TOKEN),
      1,
      /names another issuer \(https:\/\/acme\.zitadel\.cloud\).*wrong issuer\?/,
    );
  } finally {
    zitadel.discovery(undefined);
  }
});

describe('token', () => {
  const USER_KEY = { type: 'serviceaccount', keyId: 'k-2', key: PEM, userId: 'user-1' };
  const token = (issuer: string) => {
    const userKey = join(tempDir, 'user-key.json');
    writeFileSync(userKey, JSON.stringify(USER_KEY));
    return runCli(['token', '--issuer', issuer, '--key', userKey]);
  };

  it('a token endpoint that answers garbage → exit 2', async () => {
    // The scripted introspection endpoint doubles as a token endpoint that answers garbage.
    zitadel.discovery({
      json: {
        issuer: zitadel.issuer,
        introspection_endpoint: 'x',
        token_endpoint: zitadel.introspectionEndpoint,
      },
    });
    zitadel.answer('default', { body: 'garbage' });
    try {
      const result = await token(zitadel.issuer);
      expectOneErrorLine(result, 2, /^error: token request failed \(HTTP 200\): invalid_response/);
      expect(zitadel.requests.at(-1)?.form.get('grant_type')).toBe(
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
      );
      zitadel.answer('default', { status: 502, json: { error: 'bad_gateway' } });
      expectOneErrorLine(await token(zitadel.issuer), 2, /\(HTTP 502\): bad_gateway\n$/);
    } finally {
      zitadel.discovery(undefined);
      zitadel.answer('default', { json: { active: false } });
    }
  });

  it('a token endpoint that does not exist (404) → exit 1, its error as is', async () => {
    expectOneErrorLine(await token(zitadel.issuer), 1, /\(HTTP 404\): not_found\n$/);
  });

  it('ZITADEL unreachable → exit 2 with the hint', async () => {
    const closed = zitadel.issuer.replace(/:\d+$/, ':9');
    expectOneErrorLine(
      await token(closed),
      2,
      /^error: token request failed: network_error: .* - is the issuer URL right, and is ZITADEL up/,
    );
  });
});
