/**
 * ZITADEL key files: load them from a path, a JSON string or an object,
 * validate every field and turn the PEM into a `KeyObject`. Errors name the
 * source and the field, never the key material.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors';

/**
 * A private key ready to sign, with the id ZITADEL knows it by.
 *
 * @example
 * ```ts
 * const key: SigningKey = await loadKeyFile('./api-key.json');
 * await signClientAssertion(key, clientId, issuer);
 * ```
 */
export interface SigningKey {
  /** ZITADEL's key id, sent as the JWT header's `kid`. */
  keyId: string;
  privateKey: KeyObject;
  /** JWS algorithm: RS256 for RSA, ES256/ES384/ES512 for EC P-256/384/521. */
  alg: string;
}

/**
 * The key of an API application: authenticates us at the introspection endpoint.
 *
 * @example
 * ```ts
 * const key: ApplicationKey = await loadKeyFile('./api-key.json', 'application');
 * ```
 */
export interface ApplicationKey extends SigningKey {
  type: 'application';
  appId: string;
  clientId: string;
}

/**
 * The key of a service user: signs JWT-bearer grants on the calling side.
 *
 * @example
 * ```ts
 * const key: ServiceAccountKey = await loadKeyFile('./service-user.json', 'serviceaccount');
 * ```
 */
export interface ServiceAccountKey extends SigningKey {
  type: 'serviceaccount';
  userId: string;
}

/**
 * Either kind of key file; `type` tells them apart.
 *
 * @example
 * ```ts
 * const key: ZitadelKey = await loadKeyFile(source);
 * const subject = key.type === 'application' ? key.clientId : key.userId;
 * ```
 */
export type ZitadelKey = ApplicationKey | ServiceAccountKey;

/**
 * A path, a JSON string (starts with `{` after trimming) or a parsed object.
 * `object` rather than `Record<string, unknown>`, so that a value typed by an
 * interface (e.g. the testing helper's key files) is accepted too; the shape
 * is checked at run time.
 *
 * @example
 * ```ts
 * const source: KeySource = process.env.ZITADEL_KEY_JSON ?? './api-key.json';
 * ```
 */
export type KeySource = string | object;

/**
 * Loads and validates a ZITADEL key file. Pass `expectedType` to insist on an
 * application key or a service-user key.
 *
 * @throws {ConfigError} for a missing or unreadable file, bad JSON, a wrong or
 * missing `type`, a missing field, or a key that is not a usable private key.
 * `error.field` names the field at fault (`key` for the source itself).
 *
 * @example
 * ```ts
 * const key = await loadKeyFile('./api-key.json', 'application');
 * key.clientId; // '301255716950934017@billing'
 * ```
 */
export function loadKeyFile(source: KeySource): Promise<ZitadelKey>;
export function loadKeyFile(
  source: KeySource,
  expectedType: 'application',
): Promise<ApplicationKey>;
export function loadKeyFile(
  source: KeySource,
  expectedType: 'serviceaccount',
): Promise<ServiceAccountKey>;
export async function loadKeyFile(
  source: KeySource,
  expectedType?: ZitadelKey['type'],
): Promise<ZitadelKey> {
  const { name, json: parsed } = await readSource(source);
  const fail = (field: string, problem: string) =>
    new ConfigError(`${name}: ${problem}`, { field });
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail('key', 'is not a JSON object');
  }
  const json = parsed as Record<string, unknown>;
  const type = json.type;
  if (type !== 'application' && type !== 'serviceaccount') {
    throw fail(
      'type',
      `field type is ${describeType(type)}, expected application or serviceaccount`,
    );
  }
  if (expectedType && type !== expectedType) {
    throw fail(
      'type',
      `field type is ${type}, expected ${expectedType} (${PURPOSE[expectedType]})`,
    );
  }
  const text = (field: string) => {
    const value = json[field];
    if (typeof value !== 'string' || value.trim() === '') {
      throw fail(
        field,
        `field ${field} is ${value === undefined ? 'missing' : 'not a non-empty string'}`,
      );
    }
    return value;
  };
  const keyId = text('keyId');
  const { privateKey, alg } = toSigningKey(text('key'), (problem) => fail('key', problem));
  if (type === 'application') {
    return { type, keyId, privateKey, alg, appId: text('appId'), clientId: text('clientId') };
  }
  return { type, keyId, privateKey, alg, userId: text('userId') };
}

const PURPOSE = {
  application: 'the key of an API application',
  serviceaccount: 'the key of a service user',
} as const;

const EC_ALGORITHMS: Record<string, string> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

async function readSource(source: KeySource): Promise<{ name: string; json: unknown }> {
  if (typeof source !== 'string') return { name: 'key object', json: source };
  if (source.trimStart().startsWith('{')) {
    const json = parseOrUndefined(source);
    if (json === undefined) throw new ConfigError('key JSON: is not valid JSON', { field: 'key' });
    return { name: 'key JSON', json };
  }
  if (looksLikeKeyMaterial(source)) {
    // Never echo it: it may be the PEM itself, passed where a path belongs.
    throw new ConfigError(
      'key: neither a key file path nor key file JSON (a bare PEM key is not a ZITADEL key file)',
      { field: 'key' },
    );
  }
  const name = `key file ${source}`;
  let content: string;
  try {
    content = await readFile(source, 'utf8');
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException; // fs errors always carry one
    throw new ConfigError(`${name}: cannot be read (${code})`, { field: 'key' });
  }
  const json = parseOrUndefined(content);
  if (json === undefined) throw new ConfigError(`${name}: is not valid JSON`, { field: 'key' });
  return { name, json };
}

function toSigningKey(pem: string, fail: (problem: string) => ConfigError) {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    // The crypto error is left out: only its code would help, and it says "unsupported".
    throw fail('field key is not an unencrypted PEM private key');
  }
  const type = privateKey.asymmetricKeyType;
  // Node reports modulusLength for every RSA key and namedCurve for every EC key.
  const { modulusLength, namedCurve } = privateKey.asymmetricKeyDetails as {
    modulusLength: number;
    namedCurve: string;
  };
  if (type === 'rsa') {
    // jose refuses RS256 with shorter keys; say so now rather than at the first call.
    if (modulusLength < 2048) throw fail('field key is an RSA key under 2048 bits');
    return { privateKey, alg: 'RS256' };
  }
  const ecAlg = type === 'ec' && EC_ALGORITHMS[namedCurve];
  if (ecAlg) return { privateKey, alg: ecAlg };
  const what = type === 'ec' ? `ec ${namedCurve}` : type;
  throw fail(
    `field key is an unsupported key type (${what}); RSA or EC P-256/P-384/P-521 expected`,
  );
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function looksLikeKeyMaterial(text: string): boolean {
  return text.includes('-----') || /[\r\n]/.test(text) || text.length > 4096;
}

function describeType(type: unknown): string {
  if (type === undefined) return 'missing';
  if (typeof type === 'string' && /^[A-Za-z_-]{1,40}$/.test(type)) return type;
  return 'not a known type';
}
