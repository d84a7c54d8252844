/**
 * `introspector.health()`: what a readiness probe or a dashboard needs to
 * know about the auth layer, read from its parts on demand (no timer, no
 * state of its own). No secret, no token, no key in it.
 *
 * `ok` answers "can this replica take traffic?", not "is ZITADEL answering":
 * an open circuit (ZITADEL throttling) is the same for every replica, and
 * cached tokens (and stale-if-error answers) still serve meanwhile, so a
 * probe that failed on it would take the whole fleet out at once exactly
 * when it is needed. The circuit is reported in `circuit`; alert on that.
 */

/**
 * The health of an introspector.
 *
 * @example
 * ```ts
 * const health: IntrospectorHealth = {
 *   ok: true,
 *   circuit: { open: false, secondsLeft: 0 },
 *   discovery: { ok: true },
 * };
 * ```
 */
export interface IntrospectorHealth {
  /**
   * This replica can take traffic: discovery done, a coordinating store's
   * subscription up (when there is one), keys in the JWKS (with local
   * verification). An open circuit does not make it false.
   */
  ok: boolean;
  /** The circuit a 429/503 opens; open says nothing about `ok` (alert on it instead). */
  circuit: { open: boolean; secondsLeft: number };
  /** With a shared store: does it coordinate the fleet, and is its event subscription up? */
  store?: { coordinating: boolean; subscribed: boolean };
  /** With local JWT verification: keys in the set, seconds since it was fetched. */
  jwks?: { keys: number; ageSeconds: number };
  /** The discovery document is at hand (fetched, or the endpoints configured). */
  discovery: { ok: boolean };
}

/**
 * Where {@link createHealth} reads each part. `store` and `jwks` are given
 * only by the parts that exist (a fleet store, local JWT verification).
 *
 * @example
 * ```ts
 * const parts: HealthParts = { circuit: () => gate.circuit(), discoveryOk: () => discovery.loaded() };
 * ```
 */
export interface HealthParts {
  circuit(): { open: boolean; secondsLeft: number };
  discoveryOk(): boolean;
  store?(): { coordinating: boolean; subscribed: boolean };
  jwks?(): { keys: number; ageSeconds: number };
}

/**
 * Builds `health()` from its parts. `ok` leaves the circuit out: a readiness
 * probe on it must not take every replica out while ZITADEL throttles.
 *
 * @example
 * ```ts
 * const health = createHealth({ circuit: () => gate.circuit(), discoveryOk: () => discovery.loaded() });
 * app.get('/ready', (req, res) => res.status(health().ok ? 200 : 503).json(health()));
 * ```
 */
export function createHealth(parts: HealthParts): () => IntrospectorHealth {
  return () => {
    const circuit = parts.circuit();
    const discovery = { ok: parts.discoveryOk() };
    const store = parts.store?.();
    const jwks = parts.jwks?.();
    const storeOk = !store || !store.coordinating || store.subscribed;
    const health: IntrospectorHealth = {
      ok: discovery.ok && storeOk && (!jwks || jwks.keys > 0),
      circuit: { open: circuit.open, secondsLeft: circuit.secondsLeft },
      discovery,
    };
    if (store) health.store = { coordinating: store.coordinating, subscribed: store.subscribed };
    if (jwks) health.jwks = { keys: jwks.keys, ageSeconds: jwks.ageSeconds };
    return health;
  };
}
