/**
 * Usage errors exit 1 with one stderr line that never echoes what was typed
 * (a stray argument may be a token or a secret); help and version exit 0.
 * No ZITADEL is needed: every case fails before a request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, ensureBuilt, runCli, type CliResult } from './run-cli';

const ISSUER = ['--issuer', 'http://127.0.0.1:9'];
const SECRETISH = 'eyJzZWNyZXQiOiJ2YWx1ZSJ9-0123456789';

beforeAll(() => ensureBuilt(), 60_000);

function expectUsageError(result: CliResult, pattern: RegExp) {
  expect(result).toMatchObject({ code: 1, stdout: '' });
  expect(result.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toContain(SECRETISH);
}

it('starts with a shebang, so npm can link it as the bin', () => {
  expect(readFileSync(CLI_PATH, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

it.each([
  [[], /no command given; commands: token, introspect, check/],
  [[SECRETISH], /unknown command; commands: token, introspect, check/],
])('%j → exit 1 without echoing the word', async (args, pattern) => {
  expectUsageError(await runCli(args), pattern);
});

it.each([['--help'], ['-h'], ['help']])(
  '%s prints the overview with the exit codes (exit 0)',
  async (flag) => {
    const result = await runCli([flag]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: zitadel-introspection <command> \[options\]/);
    expect(result.stdout).toContain('3  the token is not active (introspect)');
  },
);

it.each([
  [['token', '--help'], /^Usage: zitadel-introspection token /],
  [['introspect', '-h'], /^Usage: zitadel-introspection introspect /],
  [['check', '--issuer', 'x', '--help'], /^Usage: zitadel-introspection check /],
  [['help', 'introspect'], /^Usage: zitadel-introspection introspect /],
])("%j prints that command's help (exit 0)", async (args, pattern) => {
  const result = await runCli(args);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(pattern);
  expect(result.stdout).toMatch(/Exit codes:/);
});

it('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
  expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
});

it.each([
  [['check', '--key', 'k.json'], /--issuer is required \(see zitadel-introspection check --help\)/],
  [['check', '--issuer', 'acme.zitadel.cloud', '--key', 'k'], /--issuer must be a URL/],
  [['check', '--issuer', 'ftp://acme', '--key', 'k'], /--issuer must be an http or https URL/],
  [['check', ...ISSUER], /give --key FILE, or --client-id with --client-secret/],
  [['check', ...ISSUER, '--key', ''], /--key needs a key file path/],
  [['check', ...ISSUER, '--key', 'k', '--client-id', 'c'], /either --key or --client-id/],
  [['token', ...ISSUER, '--client-id', 'c'], /--client-id needs --client-secret/],
  [['token', ...ISSUER, '--client-secret', SECRETISH], /--client-secret needs --client-id/],
  [['check', ...ISSUER, `--secret=${SECRETISH}`], /^error: unknown option --secret \(/],
  [['check', ...ISSUER, '--scope', 'openid'], /unknown option --scope/],
  [['token', ...ISSUER, '--project-id', '1'], /unknown option --project-id/],
  [['introspect', ...ISSUER, '--json=yes', 'x'], /option --json takes no value/],
  [['token', '--issuer'], /option --issuer needs a value/],
  [['token', ...ISSUER, '--key', '-h'], /^error: option --key needs a value \(/],
  [['token', ...ISSUER, '--key', 'k', '-x'], /^error: unknown option -x \(/],
  [['token', ...ISSUER, '--key', 'k', `-${SECRETISH}`], /unexpected argument \(1 given/],
  [['check', ...ISSUER, '--key', 'k', SECRETISH], /unexpected argument \(1 given, none expected\)/],
  [['token', ...ISSUER, '--key', 'k', SECRETISH], /unexpected argument/],
  [['introspect', ...ISSUER, '--key', 'k'], /expected exactly one TOKEN \(or - for stdin\), got 0/],
  [['introspect', ...ISSUER, '--key', 'k', 'a', SECRETISH], /exactly one TOKEN .*got 2/],
  [['introspect', ...ISSUER, '--key', 'k', ''], /TOKEN is empty/],
])('%j → exit 1, one line', async (args, pattern) => {
  expectUsageError(await runCli(args), pattern);
});

it.each([
  ['', /stdin holds no token/],
  [' \n', /stdin holds no token/],
  [`${SECRETISH}\n${SECRETISH}\n`, /TOKEN must be one word/],
  ['x'.repeat(70 * 1024), /stdin holds more than 65536 bytes/],
])('introspect - with stdin %#: exit 1, one line', async (input, pattern) => {
  const result = await runCli(['introspect', ...ISSUER, '--key', 'k', '-'], { input });
  expectUsageError(result, pattern);
});

it('a key that is neither a path nor key-file JSON is refused without echoing it', async () => {
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${SECRETISH}\n-----END RSA PRIVATE KEY-----`;
  const result = await runCli(['check', ...ISSUER, `--key=${pem}`]);
  expect(result.code).not.toBe(0);
  expect(`${result.stdout}${result.stderr}`).not.toContain(SECRETISH);
  expect(result.stderr).toMatch(/^key file: key: neither a key file path nor key file JSON/m);
});
