/**
 * `express-zitadel-introspection/testing`: a local ZITADEL-compatible issuer
 * for tests, benches and the demo. It runs oidc-provider (an optional peer
 * dependency) in a child process, so it works inside jest's sandbox and
 * under any test runner.
 *
 * @packageDocumentation
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IssuerChild } from './issuer-child';
import type {
  ApplicationKeyFile,
  Latency,
  LocalZitadelOptions,
  ServiceUserCredentials,
  ServiceUserOptions,
} from './types';

export type {
  ApplicationKeyFile,
  Latency,
  LocalZitadelOptions,
  ServiceUserCredentials,
  ServiceUserKeyFile,
  ServiceUserOptions,
} from './types';

/**
 * A running local ZITADEL.
 *
 * @example
 * ```ts
 * const zitadel = await startLocalZitadel();
 * const app = express().use(zitadelAuth({ issuer: zitadel.issuer, key: zitadel.apiKeyPath }));
 * const { pat } = await zitadel.createServiceUser({ name: 'cron', roles: { reader: ['org-1'] }, auth: 'pat' });
 * await zitadel.close();
 * ```
 */
export interface LocalZitadel {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  issuer: string;
  projectId: string;
  /** Key file of the project's API app (private_key_jwt at introspection), PKCS#1 as ZITADEL writes it. */
  apiKeyFile: ApplicationKeyFile;
  /** The same key file on disk (removed on close). */
  apiKeyPath: string;
  /** A second API app of the same project, authenticating with client_secret_basic. */
  apiClientId: string;
  apiClientSecret: string;
  /** The issuer's child process. */
  pid: number;
  /** Creates a service user of the project with roles in the given organizations. */
  createServiceUser(options: ServiceUserOptions): Promise<ServiceUserCredentials>;
  /** Delays every introspection answer by `ms` (or uniform random in `[min, max]`). */
  setLatency(ms: Latency): Promise<void>;
  /** Kills the issuer and removes its temp files; the process is gone when it resolves. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a local ZITADEL-compatible issuer on 127.0.0.1 with a random port.
 *
 * @example
 * ```ts
 * const zitadel = await startLocalZitadel({ accessTokenTtlSeconds: 5 });
 * const { keyFile } = await zitadel.createServiceUser({
 *   name: 'invoice-worker',
 *   roles: { reader: ['org-1'], admin: ['org-1', 'org-2'] },
 *   auth: 'key',
 * });
 * ```
 */
export async function startLocalZitadel(options: LocalZitadelOptions = {}): Promise<LocalZitadel> {
  const { child, info } = await IssuerChild.start({
    accessTokenTtlSeconds: positiveInteger(
      options.accessTokenTtlSeconds,
      3600,
      'accessTokenTtlSeconds',
    ),
    patTtlSeconds: positiveInteger(options.patTtlSeconds, 30 * 24 * 3600, 'patTtlSeconds'),
    projectId: options.projectId,
    logLevel: options.logLevel ?? 'silent',
  });
  const tempDir = mkdtempSync(join(tmpdir(), 'local-zitadel-'));
  const removeTempDir = () => rmSync(tempDir, { recursive: true, force: true });
  process.once('exit', removeTempDir);
  const writeKeyFile = (name: string, content: object) => {
    const path = join(tempDir, name);
    writeFileSync(path, JSON.stringify(content, null, 2), { mode: 0o600 });
    return path;
  };

  let closing: Promise<void> | undefined;
  return {
    ...info,
    apiKeyPath: writeKeyFile('api-key.json', info.apiKeyFile),
    pid: child.pid,
    async createServiceUser(userOptions) {
      const credentials: ServiceUserCredentials = await child.request(
        'createServiceUser',
        userOptions,
      );
      if (credentials.keyFile) {
        credentials.keyPath = writeKeyFile(`${credentials.userId}.json`, credentials.keyFile);
      }
      return credentials;
    },
    async setLatency(ms) {
      await child.request('setLatency', ms);
    },
    close() {
      closing ??= child.close().then(() => {
        process.off('exit', removeTempDir);
        removeTempDir();
      });
      return closing;
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer`);
  return value;
}
