/**
 * Local verification of JWT access tokens, as the introspector sees it: one
 * call at the cache-miss point that either decides (accepted or rejected,
 * without a call to ZITADEL) or says "introspect it". Holds the JWKS, the
 * eviction and inactive markers, and the revalidation schedule.
 */
import type { FleetHooks, SharedMemory } from '../cache/fleet-hooks';
import { ConfigError } from '../errors';
import type { AuthInfo } from '../token-info';
import { jwtAuthInfo } from './jwt-auth-info';
import type { ResolvedOptions } from '../options';
import { createJwks, type Jwks } from '../zitadel/jwks';
import type { ProviderMetadata } from '../zitadel/discovery';
import { localCandidate } from './local-path';
import { createProcessMemory } from './process-memory';
import { createRevalidation, type Revalidation } from './revalidation';
import { verifyAccessToken } from './verify-access-token';

/**
 * A decision of the local path: a verified token, or a refusal naming the
 * failed check (401 `invalid_token`, no call made).
 *
 * @example
 * ```ts
 * const decision: LocalDecision = { active: false, reason: 'invalid', description: 'the access token failed local verification: aud' };
 * ```
 */
export type LocalDecision =
  { active: true; auth: AuthInfo } | { active: false; reason: 'invalid'; description: string };

/**
 * What the introspector gives the local path.
 *
 * @example
 * ```ts
 * const wiring: LocalWiring = { fetch, signal, metadata: discovery.get, clientId, remember, introspect, fleet: () => hooks };
 * ```
 */
export interface LocalWiring {
  fetch?: typeof fetch;
  signal: AbortSignal;
  metadata: () => Promise<ProviderMetadata>;
  /** The API app's client id (loads the key file when needed). */
  clientId: () => Promise<string>;
  /** Caches a locally verified token by the usual key and TTL rules. */
  remember(key: string, claims: Record<string, unknown>, decision: LocalDecision): Promise<void>;
  /** The introspector's normal call path for `key`/`token`; rejects on an outage. */
  introspect(key: string, token: string): Promise<{ active: boolean }>;
  /** The fleet's hooks, when the introspector has them (fleet-wide markers and memory). */
  fleet?: () => FleetHooks | undefined;
}

/**
 * See {@link createLocalVerification}.
 *
 * @example
 * ```ts
 * const decided = await local.verify(key, token);
 * if (decided === undefined) await introspectAtZitadel(token);
 * ```
 */
export interface LocalVerification {
  /** A decision, or `undefined`: introspect this token. Rejects with IntrospectionUnavailableError when the JWKS cannot be had. */
  verify(key: string, token: string): Promise<LocalDecision | undefined> | undefined;
  ready(): Promise<void>;
  stats(): { localVerifications: number; revalidations: number };
  /** `health().jwks`, in local mode only. */
  jwks?(): { keys: number; ageSeconds: number };
  close(): void;
}

const DESCRIPTION = 'the access token failed local verification: ';

/**
 * Creates the local path; in `verify: 'introspect'` mode every `verify()`
 * answers `undefined` and nothing is fetched.
 *
 * @example
 * ```ts
 * const local = createLocalVerification(config, wiring);
 * await local.ready();
 * ```
 */
export function createLocalVerification(
  config: ResolvedOptions,
  wiring: LocalWiring,
): LocalVerification {
  const settings = config.jwt.local;
  if (!settings) return introspectMode();
  const { now } = config;
  const jwks: Jwks = createJwks({
    uri: async () => settings.jwksUri ?? jwksUriOf(await wiring.metadata()),
    fetch: wiring.fetch,
    timeoutMs: config.timeoutMs,
    cooldownMs: settings.jwksCooldownSeconds * 1000,
    signal: wiring.signal,
    now,
    logger: config.logger,
  });
  // One instance: the fleet's (fleet-wide with a coordinating store), else this process's.
  const shared: SharedMemory =
    wiring.fleet?.()?.sharedMemory('jwt') ??
    createProcessMemory({ maxEntries: Math.max(config.cache.maxEntries, 1000), now });
  const memory = () => shared;
  const introspectOnlyName = (jti: string) => `introspect:${jti}`;
  const markIntrospectOnly = (jti: string, expMs: number) =>
    memory().set(introspectOnlyName(jti), '1', expMs - now());
  const revalidation: Revalidation = createRevalidation({
    everyMs: settings.revalidateSeconds * 1000,
    memory: memory(),
    now,
    maxTracked: Math.max(config.cache.maxEntries, 1000),
    introspect: wiring.introspect,
    onInactive: markIntrospectOnly,
    logger: config.logger,
  });
  let localVerifications = 0;

  async function verify(key: string, token: string): Promise<LocalDecision | undefined> {
    const candidate = localCandidate(token, config.issuer);
    if (!candidate) return undefined;
    const verdict = await verifyAccessToken(candidate, {
      jwks,
      algorithms: settings!.algorithms,
      clockToleranceSeconds: config.clockToleranceSeconds,
      now,
      projectId: config.projectId,
      clientId: await wiring.clientId(),
      audience: config.audience,
    });
    if (verdict.kind === 'introspect') return undefined;
    if (verdict.kind === 'rejected') {
      localVerifications++;
      return { active: false, reason: 'invalid', description: DESCRIPTION + verdict.check };
    }
    const { payload } = verdict;
    const jti = payload.jti as string;
    // An eviction or an inactive answer since this token was issued: ZITADEL decides.
    if (await coveredByEviction(jti, payload)) return undefined;
    localVerifications++;
    const decision: LocalDecision = {
      active: true,
      auth: jwtAuthInfo(payload, config.projectId),
    };
    await wiring.remember(key, { ...payload, active: true }, decision);
    revalidation.accepted({ jti, key, token, expMs: (payload.exp as number) * 1000 });
    return decision;
  }

  async function coveredByEviction(jti: string, payload: Record<string, unknown>) {
    if ((await memory().get(introspectOnlyName(jti))) !== undefined) return true;
    const hooks = wiring.fleet?.();
    if (!hooks) return false;
    const subject = typeof payload.sub === 'string' ? payload.sub : '';
    const issuedAtMs = typeof payload.iat === 'number' ? payload.iat * 1000 : 0;
    return hooks.evictedAfter({ jti, subject, issuedAtMs });
  }

  return {
    verify,
    async ready() {
      await jwks.ready();
    },
    stats: () => ({ localVerifications, revalidations: revalidation.count() }),
    jwks: () => jwks.state(),
    close() {
      revalidation.close();
      jwks.close();
    },
  };
}

function introspectMode(): LocalVerification {
  return {
    verify: () => undefined,
    ready: async () => {},
    stats: () => ({ localVerifications: 0, revalidations: 0 }),
    close: () => {},
  };
}

function jwksUriOf(metadata: ProviderMetadata): string {
  if (!metadata.jwksUri) {
    throw new ConfigError('the discovery document has no jwks_uri; set jwt.jwksUri', {
      field: 'jwt.jwksUri',
    });
  }
  return metadata.jwksUri;
}
