import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '../../lib/errors';
import { loadKeyFile } from '../../lib/zitadel/key-file';
import { ecKey, rsaPkcs1, rsaPkcs8 } from './helpers';

const pkcs1 = rsaPkcs1();
const dir = mkdtempSync(path.join(tmpdir(), 'key-file-test-'));

function applicationKey(pem = pkcs1.pem): Record<string, unknown> {
  return {
    type: 'application',
    keyId: '301255790846113793',
    key: pem,
    appId: '301255716950868481',
    clientId: '301255716950934017@billing',
  };
}

function serviceAccountKey(pem = pkcs1.pem): Record<string, unknown> {
  return { type: 'serviceaccount', keyId: '301256012843221505', key: pem, userId: '3012559' };
}

function writeKey(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function configError(promise: Promise<unknown>, pem = pkcs1.pem): Promise<ConfigError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ConfigError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const text = `${(error as Error).message}\n${inspect(error, { depth: 10 })}`;
  // Not the PEM, nor any line of its base64 body.
  expect(text).not.toContain(pem);
  for (const line of pem.split('\n').filter((l) => l.length > 20)) expect(text).not.toContain(line);
  return error as ConfigError;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadKeyFile: valid keys', () => {
  it('loads a PKCS#1 application key from a path, as ZITADEL writes it', async () => {
    const file = writeKey('app.json', JSON.stringify(applicationKey()));
    const key = await loadKeyFile(file, 'application');
    expect(key).toMatchObject({
      type: 'application',
      keyId: '301255790846113793',
      appId: '301255716950868481',
      clientId: '301255716950934017@billing',
      alg: 'RS256',
    });
    expect(key.privateKey.type).toBe('private');
    expect(key.privateKey.asymmetricKeyType).toBe('rsa');
    expect(key).not.toHaveProperty('key');
  });

  it('loads from a JSON string (leading whitespace allowed) and from an object', async () => {
    const fromJson = await loadKeyFile(`  \n${JSON.stringify(serviceAccountKey())}`);
    expect(fromJson).toMatchObject({ type: 'serviceaccount', userId: '3012559', alg: 'RS256' });
    const fromObject = await loadKeyFile(serviceAccountKey(), 'serviceaccount');
    expect(fromObject.userId).toBe('3012559');
  });

  it('loads PKCS#8 RSA and EC keys with the matching alg', async () => {
    expect((await loadKeyFile(applicationKey(rsaPkcs8().pem))).alg).toBe('RS256');
    expect((await loadKeyFile(applicationKey(ecKey('P-256').pem))).alg).toBe('ES256');
    expect((await loadKeyFile(applicationKey(ecKey('P-384').pem))).alg).toBe('ES384');
    expect((await loadKeyFile(applicationKey(ecKey('P-521').pem))).alg).toBe('ES512');
  });
});

describe('loadKeyFile: defects → ConfigError naming source and field, never the key', () => {
  it('a missing file names the path', async () => {
    const file = path.join(dir, 'nope.json');
    const error = await configError(loadKeyFile(file));
    expect(error.message).toContain(file);
    expect(error.message).toContain('ENOENT');
    expect(error.field).toBe('key');
  });

  it('an unreadable file (a directory) names the path', async () => {
    const error = await configError(loadKeyFile(dir));
    expect(error.message).toContain(dir);
    expect(error.message).toMatch(/cannot be read \(EISDIR\)/);
  });

  it('a file that is not JSON', async () => {
    const file = writeKey('bad.json', `{"key": ${JSON.stringify(pkcs1.pem)}, oops`);
    const error = await configError(loadKeyFile(file));
    expect(error.message).toBe(`key file ${file}: is not valid JSON`);
    expect(error.field).toBe('key');
  });

  it('a JSON string that is not JSON does not echo its text', async () => {
    const error = await configError(loadKeyFile(`{"key": ${JSON.stringify(pkcs1.pem)}, oops`));
    expect(error.message).toBe('key JSON: is not valid JSON');
  });

  it('a bare PEM passed as the source is not echoed as a path', async () => {
    const error = await configError(loadKeyFile(pkcs1.pem));
    expect(error.message).toMatch(/neither a key file path nor key file JSON/);
    expect(error.field).toBe('key');
  });

  it.each([
    ['an array', '[1, 2]'],
    ['a string', '"text"'],
    ['null', 'null'],
  ])('a file holding %s is not an object', async (_what, content) => {
    const file = writeKey('not-object.json', content);
    const error = await configError(loadKeyFile(file));
    expect(error.message).toBe(`key file ${file}: is not a JSON object`);
  });

  it('a key object that is not an object', async () => {
    const error = await configError(loadKeyFile([] as unknown as Record<string, unknown>));
    expect(error.message).toBe('key object: is not a JSON object');
  });

  it.each([
    [undefined, 'missing'],
    ['user', 'user'],
    [42, 'not a known type'],
    ['-----BEGIN RSA PRIVATE KEY-----', 'not a known type'],
  ])('type %p is rejected', async (type, described) => {
    const error = await configError(loadKeyFile({ ...applicationKey(), type }));
    expect(error.field).toBe('type');
    expect(error.message).toBe(
      `key object: field type is ${described}, expected application or serviceaccount`,
    );
  });

  it('a service-user key where an application key is expected, and the reverse', async () => {
    const asApp = await configError(loadKeyFile(serviceAccountKey(), 'application'));
    expect(asApp.field).toBe('type');
    expect(asApp.message).toMatch(/type is serviceaccount, expected application/);
    const asUser = await configError(loadKeyFile(applicationKey(), 'serviceaccount'));
    expect(asUser.message).toMatch(/type is application, expected serviceaccount/);
  });

  it.each(['keyId', 'key', 'appId', 'clientId'])(
    'an application key without %s names the field',
    async (field) => {
      const file = writeKey(
        `no-${field}.json`,
        JSON.stringify({ ...applicationKey(), [field]: undefined }),
      );
      const error = await configError(loadKeyFile(file));
      expect(error.field).toBe(field);
      expect(error.message).toBe(`key file ${file}: field ${field} is missing`);
    },
  );

  it.each([
    ['userId', 123],
    ['keyId', ''],
    ['key', { pem: 'x' }],
  ])('a service-user key whose %s is not a non-empty string', async (field, value) => {
    const error = await configError(loadKeyFile({ ...serviceAccountKey(), [field]: value }));
    expect(error.field).toBe(field);
    expect(error.message).toBe(`key object: field ${field} is not a non-empty string`);
  });

  it('a key that is not PEM, or a public key, or an encrypted key', async () => {
    const garbage = await configError(loadKeyFile({ ...applicationKey(), key: 'not a pem' }));
    expect(garbage.field).toBe('key');
    expect(garbage.message).toMatch(/field key is not an unencrypted PEM private key/);

    const publicPem = pkcs1.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const pub = await configError(loadKeyFile({ ...applicationKey(), key: publicPem }), publicPem);
    expect(pub.message).toMatch(/not an unencrypted PEM private key/);

    const { privateKey: encrypted } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const enc = await configError(loadKeyFile({ ...applicationKey(), key: encrypted }), encrypted);
    expect(enc.field).toBe('key');
  });

  it('unsupported key types and short RSA keys', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    const edError = await configError(loadKeyFile(applicationKey(ed as string)), ed as string);
    expect(edError.message).toMatch(/unsupported key type \(ed25519\)/);

    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const k1Error = await configError(loadKeyFile(applicationKey(k1)), k1);
    expect(k1Error.message).toMatch(/unsupported key type \(ec secp256k1\)/);

    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs1',
      format: 'pem',
    }) as string;
    const shortError = await configError(loadKeyFile(applicationKey(short)), short);
    expect(shortError.message).toMatch(/RSA key under 2048 bits/);
    expect(shortError.field).toBe('key');
  });
});
