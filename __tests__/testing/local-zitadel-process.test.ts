import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  audienceScope,
  clientCredentialsGrant,
  introspectWithKey,
  isAlive,
  keyUserToken,
} from './local-zitadel-helpers';

const run = promisify(execFile);
const RUN_ISSUER = join(__dirname, 'fixtures', 'run-issuer.ts');

let z: LocalZitadel;

beforeAll(async () => {
  z = await startLocalZitadel({ accessTokenTtlSeconds: 2, patTtlSeconds: 2 });
});
afterAll(() => z?.close());

describe('token lifetime', () => {
  it('applies accessTokenTtlSeconds to JWT-bearer and client-credentials tokens', async () => {
    // exp has whole seconds: a 2 s token lives between 1 and 2 s, so each is checked right away.
    const scope = `openid ${audienceScope(z.projectId)}`;
    const keyUser = await z.createServiceUser({ name: 'short-key', auth: 'key' });
    const secretUser = await z.createServiceUser({ name: 'short-secret', auth: 'secret' });
    const tokens: string[] = [];
    const issueAndCheck = async (token: string) => {
      expect((await introspectWithKey(z, token)).body.active).toBe(true);
      tokens.push(token);
    };

    await issueAndCheck(await keyUserToken(z, keyUser.keyFile!, scope));
    const { secret, clientId } = {
      secret: secretUser.clientSecret!,
      clientId: secretUser.clientId!,
    };
    const granted = await clientCredentialsGrant(z, clientId, secret, scope);
    expect(granted.body.expires_in).toBe(2);
    await issueAndCheck(granted.body.access_token as string);
    await issueAndCheck((await z.createServiceUser({ name: 'short-pat', auth: 'pat' })).pat!);

    await sleep(2100);
    for (const token of tokens) {
      expect((await introspectWithKey(z, token)).body).toEqual({ active: false });
    }
  });
});

describe('setLatency', () => {
  afterEach(() => z.setLatency(0));

  it('delays each introspection answer by at least the latency', async () => {
    await z.setLatency(300);
    let started = performance.now();
    await introspectWithKey(z, 'some-token');
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);

    await z.setLatency({ min: 150, max: 200 });
    started = performance.now();
    await introspectWithKey(z, 'some-token');
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('rejects a negative or inverted latency', async () => {
    await expect(z.setLatency(-1)).rejects.toThrow(/latency/);
    await expect(z.setLatency({ min: 20, max: 10 })).rejects.toThrow(/latency/);
  });
});

describe('options', () => {
  it('rejects a ttl that is not a positive integer', async () => {
    await expect(startLocalZitadel({ accessTokenTtlSeconds: 0 })).rejects.toThrow(
      /accessTokenTtlSeconds/,
    );
    await expect(startLocalZitadel({ patTtlSeconds: 1.5 })).rejects.toThrow(/patTtlSeconds/);
  });
});

describe('close', () => {
  it('kills the child process and removes the key files; a second close is a no-op', async () => {
    const other = await startLocalZitadel();
    const { keyPath } = await other.createServiceUser({ name: 'temp', auth: 'key' });
    expect(isAlive(other.pid)).toBe(true);

    await other.close();
    expect(isAlive(other.pid)).toBe(false);
    expect(existsSync(other.apiKeyPath)).toBe(false);
    expect(existsSync(keyPath!)).toBe(false);
    await expect(other.close()).resolves.toBeUndefined();
    await expect(other.createServiceUser({ name: 'late', auth: 'pat' })).rejects.toThrow(/closed/);
  });
});

describe('in its own process', () => {
  const runIssuer = (mode: string) =>
    run(process.execPath, ['--import', 'tsx', RUN_ISSUER, mode], { timeout: 20_000 });

  it('writes nothing to stdout or stderr with logLevel silent', async () => {
    const { stdout, stderr } = await runIssuer('silent');
    expect({ stdout, stderr }).toEqual({ stdout: 'done\n', stderr: '' });
  });

  it('prints why a grant failed with logLevel errors, without oidc-provider notices', async () => {
    const { stdout, stderr } = await runIssuer('errors');
    expect(stdout).toBe('done\n');
    expect(stderr).toMatch(/^local-zitadel grant\.error: invalid_grant: assertion is not a JWT\n$/);
  });

  it('lets a process that never calls close() end, and the issuer goes with it', async () => {
    const { stdout } = await runIssuer('forget');
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    for (let waited = 0; isAlive(pid) && waited < 3000; waited += 50) await sleep(50);
    expect(isAlive(pid)).toBe(false);
  });
});
