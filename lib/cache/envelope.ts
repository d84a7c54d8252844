/**
 * Redis sits outside the trust boundary: whoever can write to it must not be
 * able to grant a token, refuse one or steer the fleet. Every value written
 * to a shared store and every fleet message is sealed here (AES-256-GCM, key
 * by HKDF-SHA256 from the API app's own credential), and ids that would name
 * a user or a session (ZITADEL ids are guessable) appear only as HMACs.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { ClientAuthentication } from '../zitadel/introspection';

/** Format version: the first characters of every sealed value. */
const VERSION = 'z1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT = 'express-zitadel-introspection/fleet';
/**
 * Ids remembered (a cold local JWT asks for its subject's id three times:
 * the eviction check, the cache's ledger and its subject index); cleared
 * whole when full, which costs one HMAC per id again, nothing more.
 */
const REMEMBERED_IDS = 1024;

/**
 * Seals and opens values bound to a context (the key or channel they live
 * under), so a value copied to another key does not open there.
 *
 * @example
 * ```ts
 * const envelope = createEnvelope(Buffer.from(secret));
 * const sealed = envelope.seal('cache:' + key, JSON.stringify(answer));
 * envelope.open('cache:' + key, sealed); // the JSON, or undefined if forged or moved
 * ```
 */
export interface Envelope {
  seal(context: string, plaintext: string): string;
  /** The plaintext, or `undefined` for anything that does not authenticate. */
  open(context: string, sealed: string): string | undefined;
  /** A keyed id (base64url HMAC-SHA256) of `value` in its `kind`, e.g. a subject. */
  id(kind: string, value: string): string;
}

/**
 * Derives the envelope keys from `secret` (at least 16 bytes of key material).
 *
 * @example
 * ```ts
 * const envelope = createEnvelope(Buffer.from(process.env.CACHE_SECRET!));
 * ```
 */
export function createEnvelope(secret: Uint8Array): Envelope {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, SALT, info, 32));
  const encryptionKey = derive('aes-256-gcm v1');
  const idKey = createSecretKey(derive('hmac-sha256 ids v1'));
  const ids = new Map<string, string>();

  return {
    seal(context, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      cipher.setAAD(Buffer.from(VERSION + context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return VERSION + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },

    open(context, sealed) {
      if (typeof sealed !== 'string' || !sealed.startsWith(VERSION)) return undefined;
      const bytes = Buffer.from(sealed.slice(VERSION.length), 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv(
          'aes-256-gcm',
          encryptionKey,
          bytes.subarray(0, IV_BYTES),
        );
        decipher.setAAD(Buffer.from(VERSION + context));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },

    id(kind, value) {
      const input = `${kind}\n${value}`;
      let id = ids.get(input);
      if (id === undefined) {
        id = createHmac('sha256', idKey).update(input).digest('base64url');
        if (ids.size >= REMEMBERED_IDS) ids.clear();
        ids.set(input, id);
      }
      return id;
    },
  };
}

/**
 * The key material of the envelope: `storeSecret` when given, else the API
 * app's own credential (the key file's private key, or the client secret),
 * which every replica of one app shares and Redis never sees.
 *
 * @example
 * ```ts
 * const envelope = createEnvelope(envelopeSecret(await clientAuth.load(), options.cache.storeSecret));
 * ```
 */
export function envelopeSecret(auth: ClientAuthentication, storeSecret?: string): Buffer {
  if (storeSecret !== undefined) return Buffer.from(`store-secret\n${storeSecret}`);
  if (auth.method === 'client_secret_basic') {
    return Buffer.from(`client-secret\n${auth.clientId}\n${auth.clientSecret}`);
  }
  return Buffer.concat([
    Buffer.from(`private-key\n${auth.clientId}\n`),
    privateKeyBytes(auth.key.privateKey),
  ]);
}

function privateKeyBytes(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' });
}
