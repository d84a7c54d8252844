/**
 * Public types of `express-zitadel-introspection/testing`, shared by the
 * parent side (index.ts) and the issuer's child process.
 */
import type { EventTarget, EventTargetOptions } from './event-types';
import type { CallCounts, Fault, FaultOptions } from './fault-types';
import type {
  ApplicationKeyFile,
  ServiceUserCredentials,
  ServiceUserOptions,
} from './service-user-types';

export type { EventTarget, EventTargetOptions, LocalZitadelEventType } from './event-types';
export type { CallCounts, Fault, FaultOptions, LocalZitadelEndpoint } from './fault-types';
export type {
  ApplicationKeyFile,
  ServiceUserCredentials,
  ServiceUserKeyFile,
  ServiceUserOptions,
} from './service-user-types';

/**
 * Options of {@link startLocalZitadel}.
 *
 * @example
 * ```ts
 * const zitadel = await startLocalZitadel({ accessTokenTtlSeconds: 3, logLevel: 'errors' });
 * ```
 */
export interface LocalZitadelOptions {
  /** Lifetime of JWT-bearer and client-credentials tokens (default 3600). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of personal access tokens (default 30 days). */
  patTtlSeconds?: number;
  /** The project id (default a ZITADEL-like numeric id). */
  projectId?: string;
  /** `'errors'` prints why a grant or an introspection failed to stderr (default `'silent'`). */
  logLevel?: 'silent' | 'errors';
}

/**
 * Added delay before each introspection answer: a fixed number of
 * milliseconds, or uniform random in `[min, max]`.
 *
 * @example
 * ```ts
 * await zitadel.setLatency({ min: 5, max: 20 });
 * ```
 */
export type Latency = number | { min: number; max: number };

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
  /** Client id of a second API app of the same project, authenticating with client_secret_basic. */
  apiClientId: string;
  /** Client secret of the second API app. */
  apiClientSecret: string;
  /** The issuer's child process. */
  pid: number;

  /**
   * Creates a service user of the project with roles in the given
   * organizations; with roles, `user.grant.added` goes to the event targets
   * (one per granting organization) before it resolves.
   *
   * @example
   * ```ts
   * const { keyFile } = await zitadel.createServiceUser({ name: 'worker', roles: { reader: ['org-1'] }, auth: 'key' });
   * ```
   */
  createServiceUser(options: ServiceUserOptions): Promise<ServiceUserCredentials>;

  /**
   * Delays every introspection answer by `ms` (or uniform random in `[min, max]`).
   *
   * @example
   * ```ts
   * await zitadel.setLatency({ min: 5, max: 20 });
   * ```
   */
  setLatency(ms: Latency): Promise<void>;

  /**
   * Makes an endpoint fail: the next `times` calls (default: all, until
   * `clearFaults()`) get the fault instead of an answer. Faults queue per
   * endpoint, the oldest first.
   *
   * @example
   * ```ts
   * await zitadel.injectFault({ status: 429, body: 'Too Many Requests' }, { times: 1 });
   * await zitadel.injectFault('hang', { endpoint: 'token' });
   * ```
   */
  injectFault(fault: Fault, options?: FaultOptions): Promise<void>;

  /**
   * Drops every injected fault.
   *
   * @example
   * ```ts
   * afterEach(() => zitadel.clearFaults());
   * ```
   */
  clearFaults(): Promise<void>;

  /**
   * Calls each endpoint received since start or the last `resetCalls()`.
   *
   * @example
   * ```ts
   * expect((await zitadel.calls()).introspection).toBe(1);
   * ```
   */
  calls(): Promise<CallCounts>;

  /**
   * Sets every counter of `calls()` to zero.
   *
   * @example
   * ```ts
   * beforeEach(() => zitadel.resetCalls());
   * ```
   */
  resetCalls(): Promise<void>;

  /**
   * Revokes a token the kit issued (opaque, JWT or PAT): it introspects
   * inactive from now on. Emits `user.pat.removed` for a PAT,
   * `oidc_session.access_token.revoked` for a JWT, `user.token.removed`
   * otherwise. Rejects for a token the kit does not know (or that is gone).
   *
   * @example
   * ```ts
   * await zitadel.revokeToken(pat);
   * ```
   */
  revokeToken(token: string): Promise<void>;

  /**
   * Deactivates a service user: its tokens introspect inactive and it gets
   * no new ones, until `reactivateUser`. Emits `user.deactivated`.
   *
   * @example
   * ```ts
   * await zitadel.deactivateUser(userId);
   * ```
   */
  deactivateUser(userId: string): Promise<void>;

  /**
   * Reactivates a deactivated user: its unexpired tokens are active again. Emits `user.reactivated`.
   *
   * @example
   * ```ts
   * await zitadel.reactivateUser(userId);
   * ```
   */
  reactivateUser(userId: string): Promise<void>;

  /**
   * Removes a service user with its keys: its tokens introspect inactive. Emits `user.removed`.
   *
   * @example
   * ```ts
   * await zitadel.removeUser(userId);
   * ```
   */
  removeUser(userId: string): Promise<void>;

  /**
   * Replaces a user's project roles (role → granting organization ids); later
   * introspections show them. Emits `user.grant.changed` per organization
   * that keeps a grant (`user.grant.added` / `user.grant.removed` for one that
   * gains or loses its last role).
   *
   * @example
   * ```ts
   * await zitadel.setRoles(userId, { reader: ['org-1'] });
   * ```
   */
  setRoles(userId: string, roles: Record<string, string[]>): Promise<void>;

  /**
   * Registers an Actions v2 webhook target; state changes are POSTed to it,
   * signed with the returned key, and resolve after delivery (or its failure).
   *
   * @example
   * ```ts
   * const { signingKey } = await zitadel.addEventTarget({ url: `${apiUrl}/zitadel/events` });
   * ```
   */
  addEventTarget(options: EventTargetOptions): Promise<EventTarget>;

  /**
   * Adds an RS256 web key and signs JWT access tokens with it from now on;
   * the older keys stay published. Resolves to the new `kid`.
   *
   * @example
   * ```ts
   * const kid = await zitadel.rotateSigningKey();
   * ```
   */
  rotateSigningKey(): Promise<string>;

  /**
   * Drops a web key from `/oauth/v2/keys`: tokens it signed no longer verify
   * (nor introspect active).
   *
   * @example
   * ```ts
   * await zitadel.removeSigningKey(oldKid);
   * ```
   */
  removeSigningKey(kid: string): Promise<void>;

  /**
   * Kills the issuer and removes its temp files; the process is gone when it resolves. Idempotent.
   *
   * @example
   * ```ts
   * afterAll(() => zitadel.close());
   * ```
   */
  close(): Promise<void>;
}
